"""The base every other layer stands on: errors, atomic files and run locks, device contexts,
OpenMP threads, CPU capabilities, the figures training and viz both draw (plots), and the one
module that reads Gluon's private attributes."""
