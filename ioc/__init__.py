"""Running the product: the ``ioc`` command line and the embedded services behind ``ioc demo``."""
