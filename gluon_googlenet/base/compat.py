"""Old keyword names, accepted for one release with a DeprecationWarning naming the new one."""
import functools
import warnings

# old keyword -> new keyword, for every public builder
RENAMED = {"classes": "num_classes"}


def renamed_keywords(function):
    """Let ``function`` take the old names of RENAMED keywords too, with a DeprecationWarning;
    TypeError when a call gives both names."""
    @functools.wraps(function)
    def call(*args, **kwargs):
        for old, new in RENAMED.items():
            if old in kwargs:
                if new in kwargs:
                    raise TypeError(f"{function.__qualname__}() got both {old}= and {new}=; use {new}=")
                warnings.warn(f"{function.__qualname__}(): {old}= is now {new}= ({old}= goes in the next release)",
                              DeprecationWarning, stacklevel=2)
                kwargs[new] = kwargs.pop(old)
        return function(*args, **kwargs)
    return call
