"""The domain exception raised when a page cannot be turned into a document."""


class ExtractionError(ValueError):
    """A response could not be extracted; the message is a one-line reason."""
