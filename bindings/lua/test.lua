-- Tests of the LuaJIT binding against the real library (run by
-- scripts/bindings.sh): handshake, messages, fragments, ping/pong, close,
-- errors, deflate, limits, input full, layout check.
package.path = (arg[0]:match("^(.*/)") or "./") .. "?.lua;" .. package.path
local ws = require("wsproto")

local failures = 0
local function check(cond, what)
  if not cond then
    failures = failures + 1
    io.stderr:write("FAIL: " .. what .. "\n" .. debug.traceback() .. "\n")
  end
end

local function pump(from, to)
  local out = from:take_output()
  if #out > 0 then assert(to:receive(out)) end
end

local function open_pair(opts)
  local c = assert(ws.client(opts))
  local s = assert(ws.server(opts))
  assert(c:send_request("example.com", "/chat", { "v2", "v1" }, { { "Origin", "http://example.com" } }))
  collectgarbage()
  pump(c, s)
  local req = s:next_event()
  check(req and req.type == "request", "request event")
  check(req.target == "/chat" and req.host == "example.com", "request target/host")
  check(#req.subprotocols == 2 and req.subprotocols[2] == "v1", "subprotocols")
  local origin
  for _, h in ipairs(req.headers) do if h[1]:lower() == "origin" then origin = h[2] end end
  check(origin == "http://example.com", "headers")
  assert(s:accept("v1", { { "X-Server", "lua" } }))
  pump(s, c)
  local acc = c:next_event()
  check(acc and acc.type == "accept" and acc.subprotocol == "v1", "accept event")
  check(c:state() == "open" and s:state() == "open", "open states")
  return c, s
end

-- Constants survive preprocessing and are plain numbers.
check(type(ws.SEND_MORE) == "number" and ws.SEND_MORE == 1, "SEND_MORE constant")
check(type(ws.ERR.INPUT_FULL) == "number" and ws.ERR.INPUT_FULL == 7011, "result codes are numbers")
check(ws.version():match("^%d+%.%d+%.%d+"), "version")
check(ws.check_layout(), "layout check")

for _, deflate in ipairs({ false, true }) do
  local c, s = open_pair({ deflate = deflate })
  check(c:deflate_negotiated() == deflate, "deflate negotiated")
  local big = string.rep("wsproto ", 20000)
  assert(c:send_text("hello"))
  assert(c:send_binary(big))
  assert(c:send_text("frag", ws.SEND_MORE))
  assert(c:send_text("ment"))
  assert(c:send_ping("p1"))
  pump(c, s)
  local e = s:next_event()
  check(e.type == "text" and e.data == "hello" and e.message_finished, "text")
  e = s:next_event()
  check(e.type == "binary" and e.data == big, "binary")
  e = s:next_event()
  check(e.type == "text" and e.data == "fragment", "fragments")
  e = s:next_event()
  check(e.type == "ping" and e.data == "p1", "ping")
  check(s:next_event() == nil, "no more events")
  pump(s, c)
  e = c:next_event()
  check(e and e.type == "pong" and e.data == "p1", "auto pong")
  assert(c:send_close(1000, "bye"))
  pump(c, s)
  e = s:next_event()
  check(e.type == "close" and e.code == 1000 and e.data == "bye", "close")
  pump(s, c)
  e = c:next_event()
  check(e.type == "close" and e.code == 1000, "close reply")
  check(c:wants_close_transport() and s:wants_close_transport(), "wants close transport")
  c:free(); c:free(); s:free()
end

-- Errors: nil, message, code.
do
  local c = assert(ws.client())
  local ok, msg, code = c:send_text("early")
  check(ok == nil and code == ws.ERR.WRONG_STATE and #msg > 0, "send before open")
  local _, s = open_pair()
  ok, msg, code = s:send_text("\255")
  check(ok == nil and code == ws.ERR.INVALID_ARGUMENT, "invalid UTF-8")
  ok, msg, code = s:send_ping(string.rep("x", 126))
  check(ok == nil and code == ws.ERR.INVALID_ARGUMENT, "ping too long")
  local bad = assert(ws.server())
  ok, msg, code = bad:receive("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
  check(ok == nil and code == ws.ERR.HANDSHAKE, "bad request")
  assert(bad:reject(bad:handshake_status_hint()))
  check(bad:take_output():match("^HTTP/1.1 4"), "rejection written")
  local opts_ok, omsg = ws.server({ bogus = 1 })
  check(opts_ok == nil and omsg:match("unknown option"), "unknown option")
end

-- Limits: a message over max_message_size closes with 1009.
do
  local s = assert(ws.frames_only("server", { max_message_size = 100 }))
  local c = assert(ws.frames_only("client"))
  assert(c:send_binary(string.rep("x", 101)))
  pump(c, s)
  local e = s:next_event()
  check(e.type == "close" and e.code == 1009 and bit.band(e.flags, ws.FLAG_PROTOCOL_ERROR) ~= 0, "1009")
end

-- Input full: refused bytes are kept and fed again after taking events.
do
  local s = assert(ws.frames_only("server", { max_buffered_input = 4096 }))
  local c = assert(ws.frames_only("client"))
  for _ = 1, 6000 do assert(c:send_binary("x")) end
  local wire = c:take_output()
  local pos, received, refused = 1, 0, 0
  while pos <= #wire do
    local chunk = wire:sub(pos, pos + 1023)
    local ok, _, code = s:receive(chunk)
    if ok then
      pos = pos + #chunk
    else
      check(code == ws.ERR.INPUT_FULL, "input full code")
      check(not s:wants_read(), "wants_read false while full")
      refused = refused + 1
      while s:next_event() do received = received + 1 end
    end
  end
  while s:next_event() do received = received + 1 end
  check(received == 6000 and refused > 0, ("6000 messages (%d), refusals (%d)"):format(received, refused))
  check(s:memory_used() > 0, "memory used")
end

-- Stream mode: chunks with message_finished.
do
  local s = assert(ws.frames_only("server", { stream = true }))
  local c = assert(ws.frames_only("client"))
  assert(c:send_binary("ab", ws.SEND_MORE))
  assert(c:send_binary("cd"))
  pump(c, s)
  local got = ""
  repeat
    local e = s:next_event()
    got = got .. e.data
  until e.message_finished
  check(got == "abcd", "stream mode")
end

if failures > 0 then
  io.stderr:write(("lua test: %d failure(s)\n"):format(failures))
  os.exit(1)
end
print("lua test: ok")
