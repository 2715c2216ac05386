from tests.magento.sandbox.fixtures import sandbox_factory, sandbox_store

__all__ = ["sandbox_factory", "sandbox_store"]
