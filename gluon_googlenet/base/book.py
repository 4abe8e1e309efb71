"""The d2l book's own figures for its GoogLeNet on Fashion-MNIST, held once: every page, plot and
benchmark that compares with "the book" reads them from here (no MXNet needed).

Section 7.4 of the MXNet edition (SGD lr 0.1, batch 128, Xavier, images resized to 96x96) is quoted
with two 10-epoch figures, and the classic edition's 5-epoch log:

- ``BOOK`` (``BOOK_RUNS['printed']``): test accuracy 0.904 after 10 epochs, about 5 minutes on one
  V100 (2,371 examples/s): the run this project measures itself against (the fast recipe's target,
  the dashed line of every curve).
- ``BOOK_RUNS['earlier']``: 0.886 after 10 epochs, the figure results/reproduce.py compared the
  package's 10-epoch reproduction with when it was written (results/reproduction.md); the same
  recipe, another run of it. The two differ by about what seeds do to this recipe (results/README.md).
- ``REFERENCE_RUN``: the classic Chinese edition's log as reference article 003 prints it (5 epochs,
  test accuracy after each).
"""
from collections import namedtuple

BookRun = namedtuple("BookRun", "what epochs test_acc hardware examples_per_sec")
BOOK_RUNS = {
    "printed": BookRun("the book's printed run", 10, 0.904, "one V100, about 5 min", 2371),
    "earlier": BookRun("an earlier run of the same section", 10, 0.886, "one GPU", None),
}
BOOK = BOOK_RUNS["printed"]  # the one pages, plots and benchmarks compare with
REFERENCE_RUN = (0.511, 0.782, 0.847, 0.870, 0.875)  # classic edition, epochs 1..5 (reference article 003)
