"""The one check for text the databases can store."""


def is_storable(text):
    """Whether both databases can hold ``text``: PostgreSQL refuses NUL in text, and a lone
    surrogate (JSON's "\\ud800") is not encodable as UTF-8 on either database.

    No stored id can contain either, so an id failing this check matches nothing: callers
    answer "not found" (or a 400 for request bodies) instead of letting the driver fail (a 500).
    """
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
