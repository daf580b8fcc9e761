"""The XML profiles of the transcript: a registry of profile versions and one
module per version, each registering itself when this package is imported."""

from .registry import (
    DEFAULT_PROFILE,
    DSIG_NS,
    MAX_BYTES,
    PROFILES_DIR,
    Profile,
    XmlError,
    XmlProfileError,
    build,
    get_profile,
    parse,
    profile_of,
    profiles,
    register,
    safe_parse,
    safe_parser,
    schema,
    validate,
)
from . import hocba_1_0

__all__ = [
    "DEFAULT_PROFILE",
    "DSIG_NS",
    "MAX_BYTES",
    "PROFILES_DIR",
    "Profile",
    "XmlError",
    "XmlProfileError",
    "build",
    "get_profile",
    "parse",
    "profile_of",
    "profiles",
    "register",
    "safe_parse",
    "safe_parser",
    "schema",
    "validate",
    "hocba_1_0",
]
