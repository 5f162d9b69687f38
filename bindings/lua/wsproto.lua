--- wsproto for LuaJIT: a sans-I/O WebSocket engine through the FFI.
--
-- Declarations come from wsproto_cdef.lua, generated from include/wsproto.h
-- by gen_cdef.py (a test fails if they differ). At load time the module
-- checks the layout of ws_event_t against the library: through
-- ws_abi_sizeof() when the library has it, and always by a probe that
-- parses known frames and checks every event field it reads.
--
-- Errors are `nil, message, code` (code is the ws_result_t number);
-- events are tables {type = "text", data = "...", code = N, flags = N, ...}.
-- A connection is freed by conn:free() or, failing that, by the GC.
-- The library is found as "wsproto" (libwsproto.so on the loader path) or
-- at the path in the WSPROTO_LIB environment variable.
local ffi = require("ffi")
local bit = require("bit")

local here = (debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./")
local cdef = dofile(here .. "wsproto_cdef.lua")
ffi.cdef(cdef.cdef)
local C = ffi.load(os.getenv("WSPROTO_LIB") or "wsproto")
-- Finalizers (ffi.gc) call into the library: pin it so that it is never
-- unloaded before them, even if this module fails to load or is dropped.
package.loaded["wsproto.clib"] = C

local M = { C = C, cdef = cdef }

M.SEND_MORE = tonumber(C.WS_SEND_MORE)
M.SEND_NO_COMPRESS = tonumber(C.WS_SEND_NO_COMPRESS)
M.FLAG_FRAME_FINISHED = tonumber(C.WS_EVENT_FLAG_FRAME_FINISHED)
M.FLAG_MESSAGE_FINISHED = tonumber(C.WS_EVENT_FLAG_MESSAGE_FINISHED)
M.FLAG_HAS_BODY = tonumber(C.WS_EVENT_FLAG_HAS_BODY)
M.FLAG_PROTOCOL_ERROR = tonumber(C.WS_EVENT_FLAG_PROTOCOL_ERROR)

M.OK = 0
M.ERR = {}
for _, name in ipairs({ "NULL_ARGUMENT", "INVALID_ARGUMENT", "WRONG_STATE", "HANDSHAKE", "CLOSED",
  "BUFFER_TOO_SMALL", "RNG", "PANIC", "POISONED", "NO_MEMORY", "INPUT_FULL" }) do
  M.ERR[name] = tonumber(C["WS_ERR_" .. name])
end

local event_names = { [0] = "none", "request", "accept", "reject", "reject_data", "text", "binary",
  "ping", "pong", "close" }
local state_names = { [0] = "connecting", "open", "remote_closing", "local_closing", "closed", "rejecting" }

local function result_str(r)
  return ffi.string(C.ws_result_str(r))
end
M.result_str = result_str
M.version = function() return ffi.string(C.ws_version()) end

local str_t = ffi.typeof("ws_str_t[?]")
local header_t = ffi.typeof("ws_header_t[?]")
local event_t = ffi.typeof("ws_event_t")
local conn_pp = ffi.typeof("ws_conn_t*[1]")
local u8p_p = ffi.typeof("const uint8_t*[1]")
local size_p = ffi.typeof("size_t[1]")
local deflate_t = ffi.typeof("ws_deflate_params_t")

local function s(ws)
  if ws.len == 0 then return "" end
  return ffi.string(ws.ptr, ws.len)
end

-- Config -------------------------------------------------------------------

local setters = {
  max_frame_size = "ws_config_set_max_frame_size",
  max_message_size = "ws_config_set_max_message_size",
  max_handshake_size = "ws_config_set_max_handshake_size",
  memory_budget = "ws_config_set_memory_budget",
  max_buffered_input = "ws_config_set_max_buffered_input",
  output_high_water = "ws_config_set_output_high_water",
  idle_buffer_retain = "ws_config_set_idle_buffer_retain",
  auto_pong = "ws_config_set_auto_pong",
  auto_close_reply = "ws_config_set_auto_close_reply",
  deflate = "ws_config_set_deflate",
}

-- opts: table of the setters above plus stream = true (stream mode).
local function make_config(opts)
  local cfg = C.ws_config_new()
  if cfg == nil then return nil, result_str(M.ERR.NO_MEMORY), M.ERR.NO_MEMORY end
  cfg = ffi.gc(cfg, C.ws_config_free)
  for k, v in pairs(opts or {}) do
    local r
    if k == "stream" then
      r = C.ws_config_set_message_mode(cfg, v and C.WS_MESSAGE_MODE_STREAM or C.WS_MESSAGE_MODE_WHOLE)
    elseif setters[k] then
      r = C[setters[k]](cfg, v)
    else
      return nil, "unknown option " .. tostring(k), M.ERR.INVALID_ARGUMENT
    end
    r = tonumber(r)
    if r ~= 0 then return nil, k .. ": " .. result_str(r), r end
  end
  return cfg
end

-- Conn ---------------------------------------------------------------------

local Conn = {}
Conn.__index = Conn

local function wrap(ptr)
  return setmetatable({ c = ffi.gc(ptr, C.ws_conn_free), ev = event_t() }, Conn)
end

local function new(kind, opts, role, trailing)
  local cfg, err, code = make_config(opts)
  if not cfg then return nil, err, code end
  local out = conn_pp()
  local r
  if kind == "server" then
    r = C.ws_conn_new_server(cfg, out)
  elseif kind == "client" then
    r = C.ws_conn_new_client(cfg, out)
  else
    trailing = trailing or ""
    r = C.ws_conn_new_frames_only(cfg, role == "client" and C.WS_ROLE_CLIENT or C.WS_ROLE_SERVER,
      trailing, #trailing, out)
  end
  r = tonumber(r)
  if r ~= 0 then return nil, result_str(r), r end
  return wrap(out[0])
end

function M.server(opts) return new("server", opts) end
function M.client(opts) return new("client", opts) end
--- role: "client" or "server"; trailing: bytes read past the handshake.
function M.frames_only(role, opts, trailing) return new("frames", opts, role, trailing) end

function Conn:_r(r)
  r = tonumber(r)
  if r == 0 then return true end
  local msg = self.c ~= nil and ffi.string(C.ws_conn_last_error(self.c)) or ""
  if msg == "" then msg = result_str(r) end
  return nil, msg, r
end

--- Frees the connection now (the GC would do it later). Idempotent.
function Conn:free()
  if self.c ~= nil then
    C.ws_conn_free(ffi.gc(self.c, nil))
    self.c = nil
  end
end

--- Feeds bytes read from the transport (a string). Returns true, or
-- nil, msg, code. code == wsproto.ERR.INPUT_FULL: nothing was taken: take
-- events, write output, then feed the same bytes again.
function Conn:receive(data, len)
  return self:_r(C.ws_conn_receive(self.c, data, len or #data))
end

function Conn:receive_eof() return self:_r(C.ws_conn_receive_eof(self.c)) end

--- The next event as a table, or nil when none is pending, or
-- nil, msg, code on error.
function Conn:next_event()
  local ev = self.ev
  local r = tonumber(C.ws_conn_poll_event(self.c, ev))
  if r ~= 0 then return self:_r(r) end
  local t = tonumber(ev.type)
  if t == 0 then return nil end
  local e = { type = event_names[t], flags = tonumber(ev.flags), code = tonumber(ev.code) }
  if ev.len > 0 then e.data = ffi.string(ev.data, ev.len) else e.data = "" end
  e.message_finished = bit.band(e.flags, M.FLAG_MESSAGE_FINISHED) ~= 0
  if t >= 1 and t <= 3 then
    e.target, e.host, e.subprotocol, e.extensions = s(ev.target), s(ev.host), s(ev.subprotocol), s(ev.extensions)
    e.subprotocols, e.headers = {}, {}
    for i = 0, tonumber(ev.subprotocols_len) - 1 do e.subprotocols[#e.subprotocols + 1] = s(ev.subprotocols[i]) end
    for i = 0, tonumber(ev.headers_len) - 1 do
      e.headers[#e.headers + 1] = { s(ev.headers[i].name), s(ev.headers[i].value) }
    end
  end
  return e
end

--- Borrowed variant for hot loops: returns type name, the ws_event_t
-- cdata (pointers valid until the next call on the connection) or nil.
function Conn:next_event_raw()
  local ev = self.ev
  local r = tonumber(C.ws_conn_poll_event(self.c, ev))
  if r ~= 0 then return self:_r(r) end
  if ev.type == 0 then return nil end
  return event_names[tonumber(ev.type)], ev
end

function Conn:send_text(data, flags, len)
  return self:_r(C.ws_conn_send_text(self.c, data, len or #data, flags or 0))
end
function Conn:send_binary(data, flags, len)
  return self:_r(C.ws_conn_send_binary(self.c, data, len or #data, flags or 0))
end
function Conn:send_ping(data) data = data or ""; return self:_r(C.ws_conn_send_ping(self.c, data, #data)) end
function Conn:send_pong(data) data = data or ""; return self:_r(C.ws_conn_send_pong(self.c, data, #data)) end
function Conn:send_close(code, reason)
  reason = reason or ""
  return self:_r(C.ws_conn_send_close(self.c, code or 1000, reason, #reason))
end

-- headers: array of {name, value}. The cdata arrays point at Lua strings,
-- which stay alive (anchored in `keep`) for the duration of the call.
local function c_headers(headers)
  local n = headers and #headers or 0
  if n == 0 then return nil, 0 end
  local arr = header_t(n)
  for i, h in ipairs(headers) do
    arr[i - 1].name.ptr, arr[i - 1].name.len = h[1], #h[1]
    arr[i - 1].value.ptr, arr[i - 1].value.len = h[2], #h[2]
  end
  return arr, n
end

--- Client: queues the upgrade request. subprotocols: array of strings;
-- headers: array of {name, value}.
function Conn:send_request(host, target, subprotocols, headers)
  local ns = subprotocols and #subprotocols or 0
  local subs = ns > 0 and str_t(ns) or nil
  for i = 1, ns do subs[i - 1].ptr, subs[i - 1].len = subprotocols[i], #subprotocols[i] end
  local hs, nh = c_headers(headers)
  local r = C.ws_conn_send_request(self.c, host, #host, target, #target, subs, ns, hs, nh)
  local _ = { subprotocols, headers } -- keep the strings referenced until here
  return self:_r(r)
end

--- Server, after a "request" event: accept (subprotocol nil = none).
function Conn:accept(subprotocol, headers)
  local hs, nh = c_headers(headers)
  return self:_r(C.ws_conn_accept(self.c, subprotocol, subprotocol and #subprotocol or 0, hs, nh))
end

function Conn:reject(status, headers, has_body)
  local hs, nh = c_headers(headers)
  return self:_r(C.ws_conn_reject(self.c, status, hs, nh, has_body and true or false))
end

function Conn:reject_data(data, finished)
  return self:_r(C.ws_conn_reject_data(self.c, data, #data, finished and true or false))
end

--- Pending output as a string, not consumed (call consume(n) with what the
-- transport took). "" when nothing is pending.
function Conn:pending()
  local p, n = u8p_p(), size_p()
  local r = tonumber(C.ws_conn_output_peek(self.c, p, n))
  if r ~= 0 then return self:_r(r) end
  if n[0] == 0 then return "" end
  return ffi.string(p[0], n[0])
end

--- Zero-copy view: pointer (const uint8_t*) and length, valid until the next
-- call on the connection.
function Conn:peek()
  local p, n = u8p_p(), size_p()
  local r = tonumber(C.ws_conn_output_peek(self.c, p, n))
  if r ~= 0 then return self:_r(r) end
  return p[0], tonumber(n[0])
end

function Conn:consume(n) return self:_r(C.ws_conn_output_consume(self.c, n)) end

--- All pending output as a string, consumed.
function Conn:take_output()
  local out = self:pending()
  if out and #out > 0 then C.ws_conn_output_consume(self.c, #out) end
  return out
end

function Conn:output_len() return tonumber(C.ws_conn_output_len(self.c)) end
function Conn:state() return state_names[tonumber(C.ws_conn_state(self.c))] end
function Conn:wants_read() return C.ws_conn_wants_read(self.c) end
function Conn:wants_close_transport() return C.ws_conn_wants_close_transport(self.c) end
function Conn:memory_used() return tonumber(C.ws_conn_memory_used(self.c)) end
function Conn:handshake_status_hint() return tonumber(C.ws_conn_handshake_status_hint(self.c)) end
function Conn:deflate_negotiated()
  return C.ws_conn_deflate_params(self.c, deflate_t())
end

-- Layout check ---------------------------------------------------------------

--- Verifies that the cdef's ws_event_t matches the library. Returns true or
-- nil, message. Run at load time (an error there stops `require`).
function M.check_layout()
  if pcall(function() return C.ws_abi_sizeof end) then
    local n = tonumber(C.ws_abi_sizeof(C.WS_ABI_EVENT))
    if n ~= ffi.sizeof(event_t) then
      return nil, ("library sizeof(ws_event_t) = %d, cdef says %d"):format(n, ffi.sizeof(event_t))
    end
  end
  -- Probe: a server parses a masked text frame "probe" (mask 0) and a close
  -- frame 4321 "why" from a client; every field read must come back exact.
  local conn = M.frames_only("server")
  if not conn then return nil, "cannot create a probe connection" end
  local wire = "\x81\x85\0\0\0\0probe" .. "\x88\x85\0\0\0\0\x10\xe1why"
  local ok, msg = conn:receive(wire)
  if not ok then return nil, "probe: " .. msg end
  local ev = conn.ev
  C.ws_conn_poll_event(conn.c, ev)
  local good = tonumber(ev.type) == 5 and tonumber(ev.len) == 5 and ffi.string(ev.data, ev.len) == "probe"
    and tonumber(ev.flags) == 3 and tonumber(ev.code) == 0 and ev.target.len == 0 and ev.headers_len == 0
  C.ws_conn_poll_event(conn.c, ev)
  good = good and tonumber(ev.type) == 9 and tonumber(ev.code) == 4321 and tonumber(ev.len) == 3
    and ffi.string(ev.data, ev.len) == "why" and ev.subprotocols_len == 0
  conn:free()
  if not good then return nil, "ws_event_t layout of the cdef does not match the library" end
  return true
end

assert(M.check_layout())

return M
