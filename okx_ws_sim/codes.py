"""Every OKX code and message the simulator answers with, in one place.

Where okx-protocol.md marks a fact *uncertain* (or leaves it open) the choice is
one constant here, commented, so that switching it is a one-line change.
"""

from __future__ import annotations

from typing import Final

# -- connection level ---------------------------------------------------------
INVALID_REQUEST: Final = "60012"  # malformed JSON / frame without op: {"event":"error",...}
INVALID_ARGS: Final = "60013"
TOO_FREQUENT: Final = "60014"
CHANNEL_NOT_FOUND: Final = "60018"
NOTICE_RECONNECT: Final = "64008"
NOTICE_RECONNECT_MSG: Final = (
    "The connection will soon be closed for a service upgrade. Please reconnect."
)

# -- login ----------------------------------------------------------------------
INVALID_TIMESTAMP: Final = "60004"
INVALID_API_KEY: Final = "60005"  # apiKey missing / not a string / empty
TIMESTAMP_EXPIRED: Final = "60006"
INVALID_SIGN: Final = "60007"
LOGIN_FAILED: Final = "60009"
PLEASE_LOG_IN: Final = "60011"
WRONG_PASSPHRASE: Final = "60024"
API_KEY_NOT_FOUND: Final = "60032"
# A well-formed key the server does not know.  The doc lists both 60005 (invalid
# apiKey) and 60032 (API key doesn't exist); an EEA key on global hosts is
# reported as 60032, i.e. "a key this host doesn't know", so that is our choice.
UNKNOWN_API_KEY_CODE: Final = API_KEY_NOT_FOUND
# Login on /ws/v5/public: OKX's behaviour is undocumented (*uncertain*); we treat
# it as an invalid request on that connection.
LOGIN_ON_PUBLIC_CODE: Final = INVALID_REQUEST
# Whether the server closes the connection after a failed login (*uncertain*;
# OKX keeps it open in the captures we have).
CLOSE_ON_LOGIN_FAILURE: Final = False

# -- WS API requests (whole request) ---------------------------------------------
# Bad / missing request id (must be 1-32 alphanumerics): *uncertain*, 60013.
BAD_REQUEST_ID_CODE: Final = INVALID_ARGS
# Unknown op, op not allowed on this connection (e.g. `sprd-order` on private),
# args not a non-empty list, batch over the op's limit: *uncertain*, 60013
# "Invalid args" as in `{"id","op","code":"60013","msg":"Invalid args","data":[]}`.
UNKNOWN_OP_CODE: Final = INVALID_ARGS
WRONG_CONNECTION_CODE: Final = INVALID_ARGS
TOO_MANY_ITEMS_CODE: Final = INVALID_ARGS
# expTime already passed: *uncertain* 50004 ("request timeout") per the doc.
EXPIRED_REQUEST_CODE: Final = "50004"
EXPIRED_REQUEST_MSG: Final = "Endpoint request timeout (expTime passed)."
# Rate limit (only when Simulator(rate_limits=True)): doc lists 60014 or 50011;
# *uncertain*, 50011 as OKX's trading endpoints use.
RATE_LIMIT_CODE: Final = "50011"
RATE_LIMIT_MSG: Final = (
    "Rate limit reached. Please refer to API documentation and throttle requests accordingly."
)
# Top-level msg of a reply whose items failed (code "1" / "2").  OKX's WS examples
# show an empty msg (*uncertain*).
ALL_FAILED_MSG: Final = ""
PARTIAL_MSG: Final = ""

# -- item level (sCode) ---------------------------------------------------------
PARAM_ERROR: Final = "51000"  # sMsg "Parameter {field} error"
INSTRUMENT_NOT_FOUND: Final = "51001"
INSUFFICIENT_BALANCE: Final = "51008"
DUPLICATE_CL_ORD_ID: Final = "51016"
CANCEL_FAILED: Final = "51400"  # filled, canceled or does not exist
# Amend of an unknown / finished order: *uncertain* exact number; 51503.
AMEND_FAILED: Final = "51503"
ORDER_NOT_EXIST: Final = "51603"
# Spread ops reuse the same item codes (*uncertain*: OKX has sprd-specific codes).
SPRD_CANCEL_FAILED: Final = CANCEL_FAILED
SPRD_AMEND_FAILED: Final = AMEND_FAILED

OK: Final = "0"
