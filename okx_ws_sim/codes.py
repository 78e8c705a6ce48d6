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

# -- rate limits (the numbers are limits.py's table; on unless Simulator(rate_limits=False)) --
# A WS API request over its op's limit: 50011, per OKX's "Rate Limits" section ("the
# system returns error code 50011").  *Uncertain* for batches: whether OKX fails the
# whole request or only the items past the limit (sCode 50011); we fail the whole
# request (code 50011, data []), and the connection stays open.
RATE_LIMIT_CODE: Final = "50011"
RATE_LIMIT_MSG: Final = (
    "Rate limit reached. Please refer to API documentation and throttle requests accordingly."
)
# The sub-account ceiling (new + amended orders, each batch item counted): 50061 per
# OKX's "Sub-account rate limit" section; message per its error table.
SUB_ACCOUNT_LIMIT_CODE: Final = "50061"
SUB_ACCOUNT_LIMIT_MSG: Final = "Sub-account rate limit exceeded."
# *Uncertain*: OKX's fill-ratio section says spot/margin orders are exempt "from the
# sub-account rate limit", its base section lists no exemption.  We count every
# instrument type; adding "SPOT" / "MARGIN" here exempts them.
SUB_ACCOUNT_EXEMPT_INST_TYPES: Final[frozenset[str]] = frozenset()
# login / subscribe / unsubscribe past 480 per hour on one connection: OKX documents the
# limit, not its answer (*uncertain*).  We send its WS "Requests too frequent" error
# event, {"event":"error","code":"60014",...} (what ccxt #25373 saw for a subscribe
# burst), and keep the connection open; the request is not processed.
SESSION_OPS_LIMIT_CODE: Final = TOO_FREQUENT
SESSION_OPS_LIMIT_MSG: Final = "Requests too frequent."
# A 4th connection request within a second from one IP: OKX's answer is undocumented
# (*uncertain*); we refuse the WebSocket upgrade with HTTP 429 Too Many Requests.
CONNECT_LIMIT_STATUS: Final = 429
# Sliding or fixed windows: OKX does not say (*uncertain*).  Sliding (no 2 s ever hold
# more than the limit) is the stricter witness: a client paced for it passes both.
SLIDING_WINDOWS: Final = True
# Top-level msg of a reply whose items failed (code "1" / "2").  OKX's WS examples
# show an empty msg (*uncertain*).
ALL_FAILED_MSG: Final = ""
PARTIAL_MSG: Final = ""

# -- item level (sCode) ---------------------------------------------------------
# Sources checked (2026): OKX's error-code table, docs-v5 #error-code-rest-api
# (as captured in a public docs mirror, updated 2026-07-13), which the WS order ops
# share; ccxt issue #27805 (a demo `batch-orders` reply, verbatim:
# `"code":"1"`, item `"sCode":"50014","sMsg":"Parameter instIdCode can not be empty."`);
# nautilus_trader #3507 (same message on demo) and #4964 (51001's message on the wire).
PARAM_ERROR: Final = "51000"  # sMsg "Parameter {field} error" (table: HTTP 400)
# A required field absent, null or "": 50014 "Parameter {field} can not be empty."
# Confirmed for instIdCode by ccxt #27805; for the other required fields it is the
# table's generic code (*uncertain* per field: the sim used 51000 before).
MISSING_PARAM: Final = "50014"
MISSING_PARAM_MSG: Final = "Parameter {} can not be empty."
# instIdCode present but not a JSON integer (a string "123", a float, a bool):
# *uncertain*.  OKX documents exactly "51000 Parameter instIdCode error" for a bad
# instIdCode on GET /api/v5/market/books-sbe; we assume the WS ops answer alike.
BAD_INST_ID_CODE: Final = PARAM_ERROR
# Neither ordId nor clOrdId (cancel / amend, plain and spread): the table's 51003
# (*uncertain* for the WS ops; the sim answered 51000 "Parameter ordId error" before).
ORD_ID_REQUIRED: Final = "51003"
ORD_ID_REQUIRED_MSG: Final = "Either client order ID or order ID is required."
# A field the op does not know (e.g. `instIDCode`, `clOrdID`, `reduce_only`):
# *uncertain* whether OKX rejects or silently ignores unknown fields; the sim
# rejects them with 51000 "Parameter {field} error" so that a client's misspelt
# field cannot pass unnoticed.  False: ignore them as a lenient server would.
REJECT_UNKNOWN_FIELDS: Final = True
UNKNOWN_FIELD_CODE: Final = PARAM_ERROR
INSTRUMENT_NOT_FOUND: Final = "51001"
# Exact message per the table and nautilus_trader #4964 (no comma before "or").
INSTRUMENT_NOT_FOUND_MSG: Final = "Instrument ID, Instrument ID code or Spread ID doesn't exist."
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

# -- instruments and REST (/api/v5/public/instruments) ----------------------------
# MARGIN lists the margin-enabled SPOT pairs.  *Uncertain*: whether a pair's
# MARGIN instIdCode equals its SPOT one.  Our choice: the same code (offset 0);
# any other offset gives MARGIN listings distinct codes (still resolving to the pair).
MARGIN_CODE_OFFSET: Final = 0
# Missing instType: 50014 "Parameter instType can not be empty." (table, HTTP 400).
# instType not one of SPOT|MARGIN|SWAP|FUTURES|OPTION: 51000 "Parameter instType error".
# OPTION without instFamily or uly: *uncertain*; OKX's docs only say it is required.
# We answer 50015 "Either parameter instFamily or uly is required", which OKX
# sends verbatim for the same rule on /api/v5/public/position-tiers.
EITHER_PARAM: Final = "50015"
# instId that is not listed under that instType: *uncertain*, 51001 with the
# message above (an empty data list is the alternative).
# HTTP status of an OKX error envelope (code != "0").  The table gives one per code:
# 400 for 50014/50015/51000, 200 for 51001 and most trade codes.  *Uncertain*: we
# follow the table rather than assume HTTP 200 for every error; codes not listed
# here answer 200.
REST_HTTP_STATUS: Final[dict[str, int]] = {
    MISSING_PARAM: 400,
    EITHER_PARAM: 400,
    PARAM_ERROR: 400,
    INSTRUMENT_NOT_FOUND: 200,
}
# Body of FaultPlan.fail_rest()'s answer (HTTP 503 by default): the table's 50001.
SERVICE_UNAVAILABLE: Final = "50001"
SERVICE_UNAVAILABLE_MSG: Final = "Service temporarily unavailable. Please try again later."
