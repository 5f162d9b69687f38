-- 32-byte echoes in memory through the LuaJIT binding (compare
-- tests/bindings/bench_c.c). Two variants: the idiomatic API (events as
-- tables, output as strings) and the borrowed cdata path.
package.path = (arg[0]:match("^(.*/)") or "./") .. "?.lua;" .. package.path
local ffi = require("ffi")
local ws = require("wsproto")
local C = ws.C

local iters = 1000000
local function bench(name, body)
  local cl = assert(ws.frames_only("client"))
  local sv = assert(ws.frames_only("server"))
  local t0 = os.clock()
  body(cl, sv, iters)
  local dt = os.clock() - t0
  print(("lua %-10s %.0f echoes/s (32 B, in memory, %d iterations)"):format(name .. ":", iters / dt, iters))
end

local msg = string.rep("x", 32)

bench("idiomatic", function(cl, sv, n)
  for _ = 1, n do
    cl:send_binary(msg)
    sv:receive(cl:take_output())
    local ev = sv:next_event()
    sv:send_binary(ev.data)
    cl:receive(sv:take_output())
    local back = cl:next_event()
    if #back.data ~= 32 then error("echo failed") end
  end
end)

bench("raw", function(cl, sv, n)
  local buf = ffi.new("uint8_t[4096]")
  local len = ffi.new("size_t[1]")
  local cev, sev = cl.ev, sv.ev
  for _ = 1, n do
    C.ws_conn_send_binary(cl.c, msg, 32, 0)
    C.ws_conn_output_copy(cl.c, buf, 4096, len)
    C.ws_conn_receive(sv.c, buf, len[0])
    C.ws_conn_poll_event(sv.c, sev)
    C.ws_conn_send_binary(sv.c, sev.data, sev.len, 0)
    C.ws_conn_output_copy(sv.c, buf, 4096, len)
    C.ws_conn_receive(cl.c, buf, len[0])
    C.ws_conn_poll_event(cl.c, cev)
    if cev.len ~= 32 then error("echo failed") end
  end
end)
