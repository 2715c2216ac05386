"""`python -m magento.sandbox`: run the sandbox store without Django."""

from .cli import main

main()
