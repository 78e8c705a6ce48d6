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
# Login on /ws/v5/public is accepted: OKX requires it there for books-l2-tbt and
# books50-l2-tbt (OKX notice 2022-04-14; okx-api #140, 2025-09-04).
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
# expTime already passed: each item refused with sCode 50036 (code "1", nothing done).
# OKX's error-code list (copy of 2026-07-20) has 50036 "The expTime can't be earlier
# than the current system time..." and 50037 "Order expired."; a request with a passed
# expTime was answered code 1 / sCode 50036 by OKX's demo REST on 2026-09-17 (a public
# test report).  The WS op answering the same is *uncertain* (not observed).
EXPIRED_REQUEST_CODE: Final = "50036"
EXPIRED_REQUEST_MSG: Final = (
    "The expTime can't be earlier than the current system time."
    " Please adjust the expTime and try again."
)

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
# RPI orders worth less than a minimum per instType are refused (log_zh "RPI 挂单最小名义
# 金额门槛", production 2026-09-15; before it, since 2026-08-18: SWAP / FUTURES 10,000 and
# SPOT 1,000).  Each batch item is checked on its own; an amend is rechecked only when
# it carries newSz (at the price after the amend).  EVENTS: none; OPTION is not listed
# (*uncertain*: no minimum here).  A MARGIN order on a spot pair counts as SPOT
# (*uncertain*).  Notional: sz x px (SPOT), contracts x ctVal x px (SWAP / FUTURES), in
# USD (USDT / USDC count as USD).
RPI_MIN_NOTIONAL: Final = "54051"
RPI_MIN_NOTIONAL_USD: Final[dict[str, int]] = {"SPOT": 500, "FUTURES": 2000, "SWAP": 5000}
# OKX documents the message in Chinese only ("RPI 订单被拒绝。订单价值低于 RPI 订单所需的最低
# 金额（{param0} USD）。"); this English rendering is ours (*uncertain*).
RPI_MIN_NOTIONAL_MSG: Final = (
    "RPI order rejected. The order value is below the minimum required for RPI orders ({} USD)."
)
DUPLICATE_CL_ORD_ID: Final = "51016"
CANCEL_FAILED: Final = "51400"  # filled, canceled or does not exist
# Amend of an unknown / finished order: *uncertain* exact number; 51503.
AMEND_FAILED: Final = "51503"
ORDER_NOT_EXIST: Final = "51603"
# Spread ops reuse the same item codes (*uncertain*: OKX has sprd-specific codes).
SPRD_CANCEL_FAILED: Final = CANCEL_FAILED
SPRD_AMEND_FAILED: Final = AMEND_FAILED

# slippagePct (log_zh 2026-05-06): outside 0..0.05 -> 54084, more than 2 decimals of
# the percentage (4 of the fraction) -> 54085.  OKX documents the messages in Chinese
# ("滑点设置须介于 0% 至 5% 之间（含边界）。", "滑点百分比小数位不可超过 2 位。"); the English
# below is ours (*uncertain*), and so is checking the range first.  On an order it does
# not apply to (not a SPOT / margin market order) it is accepted and ignored (*uncertain*).
SLIPPAGE_RANGE: Final = "54084"
SLIPPAGE_RANGE_MSG: Final = "Slippage must be between 0% and 5% (inclusive)."
SLIPPAGE_PRECISION: Final = "54085"
SLIPPAGE_PRECISION_MSG: Final = "Slippage percentage can't have more than 2 decimal places."
SLIPPAGE_MAX: Final = "0.05"
SLIPPAGE_MAX_DECIMALS: Final = 4

OK: Final = "0"
# subCode: "sub-code of sCode", in every item of order / batch-orders / amend-order /
# batch-amend-orders replies since 2026-03-10.  OKX's WS pages (mirrored 2026-07): ""
# when sCode is 0, else the sub-code "if available", else "".  The simulator has no
# sub-codes, so "" always (*uncertain*: the amend page's failure example shows "10000"
# for 51008 in English and "1000" in Chinese, unexplained).  Cancel replies have none.
SUB_CODE_OPS: Final = frozenset({"order", "batch-orders", "amend-order", "batch-amend-orders"})
NO_SUB_CODE: Final = ""

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
    # authentication: 401 for every one of these (OKX's table)
    "50101": 401,
    "50102": 401,
    "50103": 401,
    "50104": 401,
    "50105": 401,
    "50106": 401,
    "50107": 401,
    "50111": 401,
    "50112": 401,
    "50113": 401,
    ORDER_NOT_EXIST: 200,
}
# Body of FaultPlan.fail_rest()'s answer (HTTP 503 by default): the table's 50001.
SERVICE_UNAVAILABLE: Final = "50001"
SERVICE_UNAVAILABLE_MSG: Final = "Service temporarily unavailable. Please try again later."

# -- private channels (subscribe) --------------------------------------------------
# Sources: OKX's docs-v5 pages "WS / Order channel", "WS / Fills channel", "Account
# channel", "Positions channel", "Balance and position channel" and the spread
# "Order channel" / "Trades channel" (as mirrored 2026-06), and their WebSocket
# error table (60012 Invalid request, 60018 Wrong URL or {0} doesn't exist, 64003).
# A subscription arg with a key the channel does not document (e.g. `instID`), or
# without a required one (`instType` of orders / positions): *uncertain*.  OKX's
# failure examples answer a malformed subscribe with 60012 "Invalid request: <the
# frame>"; we do the same for both (60027 "Parameter {0} can not be empty." is the
# alternative for a missing key).
SUB_BAD_ARG_CODE: Final = INVALID_REQUEST
# A documented key with a value OKX does not know (instType "FOO", an instId or
# sprdId that is not listed, an instFamily no instrument has): 60018 "Wrong URL or
# channel:...,instId:... doesn't exist." as OKX answers an unknown tickers instId
# (python-okx #21).  *Uncertain* for the private channels; our choice.
SUB_BAD_VALUE_CODE: Final = CHANNEL_NOT_FOUND
# The fills channel is for fee tiers VIP4 and above (docs 2026; older docs said
# VIP5); others get 64003 on subscribing.  The simulator has no fee tiers and
# serves every account, so bots can be tested; False refuses it with 64003.
SERVE_FILLS_TO_ALL: Final = True
FILLS_TIER_CODE: Final = "64003"
FILLS_TIER_MSG: Final = "Your trading fee tier doesn't meet the requirement to access this channel"

# -- what the simulator's pushes say -------------------------------------------------
# cancelSource of the orders channel (OKX's table): 0 system, 1 user, 13 FOK not
# fully filled, 14 IOC partially canceled, 31 post-only would take liquidity, 38 MMP
# orders canceled by the user.  The spread channel shares 0, 1, 14, 31.
CANCEL_SOURCE_SYSTEM: Final = "0"
CANCEL_SOURCE_USER: Final = "1"
CANCEL_SOURCE_FOK: Final = "13"
CANCEL_SOURCE_IOC: Final = "14"
CANCEL_SOURCE_POST_ONLY: Final = "31"  # also an RPI order that would cross (*uncertain*)
CANCEL_SOURCE_MMP: Final = "38"
# *Uncertain* (OKX documents no code for these): the unfilled rest of a market
# order beyond the book's depth, an order canceled because its amend failed with
# cxlOnFail=true, and orders canceled because their instrument was delisted: all
# "0", canceled by the system.
CANCEL_SOURCE_MARKET_REST: Final = CANCEL_SOURCE_SYSTEM
CANCEL_SOURCE_AMEND_FAILED: Final = CANCEL_SOURCE_SYSTEM
CANCEL_SOURCE_DELISTED: Final = CANCEL_SOURCE_SYSTEM
# Fees: the simulator's accounts trade at a zero fee (fee "0", rebate "0").  OKX
# charges by tier; a zero tier keeps every balance an exact sum of fills.
# eventType of a balance_and_position push caused by a fill (OKX's list).
BAL_POS_FILLED: Final = "filled"

# -- signed REST (GET /api/v5/trade/order, /trade/orders-pending, /sprd/order) --------
# OKX's REST error table ("Error Code from 50000 to 53999", HTTP status per code).
# Which check fails first when several would is *uncertain* (undocumented); ours:
# missing headers (key, sign, timestamp, passphrase), timestamp format, timestamp
# window, key, passphrase, signature.
REST_KEY_MISSING: Final = "50103"
REST_PASSPHRASE_MISSING: Final = "50104"
REST_PASSPHRASE_WRONG: Final = "50105"
REST_SIGN_MISSING: Final = "50106"
REST_TIMESTAMP_MISSING: Final = "50107"
REST_TIMESTAMP_EXPIRED: Final = "50102"
REST_TIMESTAMP_INVALID: Final = "50112"  # not ISO 8601 UTC with milliseconds
# A key the server does not know: the table has 50111 "Invalid OK-ACCESS-KEY." (HTTP
# 401) and 50119 "API key doesn't exist" (HTTP 200).  *Uncertain*; python-okx users
# report 50111 for a wrong key, so that is our choice.
REST_KEY_UNKNOWN: Final = "50111"
REST_SIGN_INVALID: Final = "50113"
REST_AUTH_MSG: Final[dict[str, str]] = {
    REST_KEY_MISSING: 'Request header "OK-ACCESS-KEY" cannot be empty.',
    REST_PASSPHRASE_MISSING: 'Request header "OK-ACCESS-PASSPHRASE" cannot be empty.',
    REST_PASSPHRASE_WRONG: 'Request header "OK-ACCESS-PASSPHRASE" incorrect.',
    REST_SIGN_MISSING: 'Request header "OK-ACCESS-SIGN" cannot be empty.',
    REST_TIMESTAMP_MISSING: 'Request header "OK-ACCESS-TIMESTAMP" cannot be empty.',
    REST_TIMESTAMP_EXPIRED: "Timestamp request expired.",
    REST_TIMESTAMP_INVALID: "Invalid OK-ACCESS-TIMESTAMP.",
    REST_KEY_UNKNOWN: "Invalid OK-ACCESS-KEY.",
    # The table says "Invalid signature."; users quote "Invalid Sign" from the wire
    # (*uncertain* which one production sends).  The table wins.
    REST_SIGN_INVALID: "Invalid signature.",
}
# OKX: "The server rejects requests where this differs from server time by more
# than 30 seconds (error 50102)."
REST_TIMESTAMP_WINDOW_S: Final = 30.0
# GET order queries: a missing order is 51603 "Order does not exist." (HTTP 200).
# *Uncertain* for GET /api/v5/sprd/order, whose docs name no code; the same 51603.
ORDER_NOT_EXIST_MSG: Final = "Order does not exist."
SPRD_ORDER_NOT_EXIST: Final = ORDER_NOT_EXIST
# Neither ordId nor clOrdId on a GET order query: 51003 (the table's "Either client
# order ID or order ID is required.", HTTP 200) rather than 50015 (*uncertain*).
# OKX keeps canceled orders that never filled for 2 hours only (its order-history
# notes); after that the order query answers 51603.  Measured on the simulator's clock.
CANCELED_UNFILLED_RETENTION_MS: Final = 2 * 60 * 60 * 1000
# GET /api/v5/trade/orders-pending: at most 100 per page, 100 by default.
PENDING_PAGE_MAX: Final = 100
