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


LIKE_ESCAPE = "\\"


def like_pattern_problem(pattern, escape=LIKE_ESCAPE):
    """What is wrong with a ``*Like`` pattern (Camunda's rules: ``%`` any text, ``_`` one
    character, ``escape`` makes the next character literal), or None. A pattern ending in a
    lone escape character is an error in PostgreSQL; it is refused before it gets there."""
    index = 0
    while index < len(pattern):
        if pattern[index] == escape:
            if index + 1 == len(pattern):
                return f"must not end with the escape character {escape} (write {escape * 2} for a literal one)"
            index += 1
        index += 1
    return None


def like_to_glob(pattern, escape=LIKE_ESCAPE):
    """The GLOB pattern that matches what ``LIKE pattern ESCAPE escape`` matches, case-sensitively
    (SQLite's LIKE ignores the case of ASCII letters; PostgreSQL's and Camunda's do not)."""
    glob = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == escape and index + 1 < len(pattern):
            index += 1
            char = pattern[index]
            glob.append(f"[{char}]" if char in "*?[" else char)
        elif char == "%":
            glob.append("*")
        elif char == "_":
            glob.append("?")
        else:
            glob.append(f"[{char}]" if char in "*?[" else char)
        index += 1
    return "".join(glob)
