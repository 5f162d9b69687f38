-- A single-threaded WebSocket echo server: LuaSocket non-blocking sockets,
-- socket.select, one wsproto connection per client.
-- Usage: luajit echo_server.lua [--host ADDR] [--port N] [--deflate]
-- Prints "listening on PORT" once it accepts connections.
package.path = (arg[0]:match("^(.*/)") or "./") .. "?.lua;" .. package.path
local socket = require("socket")
local ws = require("wsproto")

local host, port, opts = "127.0.0.1", 9001, { max_message_size = 16 * 1024 * 1024 }
local i = 1
while i <= #arg do
  if arg[i] == "--port" then port = tonumber(arg[i + 1]); i = i + 1
  elseif arg[i] == "--host" then host = arg[i + 1]; i = i + 1
  elseif arg[i] == "--deflate" then opts.deflate = true
  else io.stderr:write("unknown argument " .. arg[i] .. "\n"); os.exit(2) end
  i = i + 1
end

local server = assert(socket.bind(host, port))
server:settimeout(0)
local _, bound = server:getsockname()
print("listening on " .. bound)
io.stdout:flush()

local clients = {} -- socket -> { conn = , pending = string or nil }

local function drop(sock)
  local cl = clients[sock]
  clients[sock] = nil
  sock:close()
  if cl then cl.conn:free() end
end

local function handle_events(cl)
  while true do
    local ev, err = cl.conn:next_event()
    if not ev then
      if err then return false end
      return true
    end
    if ev.type == "request" then
      cl.conn:accept()
    elseif ev.type == "text" then
      cl.conn:send_text(ev.data)
    elseif ev.type == "binary" then
      cl.conn:send_binary(ev.data)
    end -- pings and closes are answered by the engine
  end
end

local function feed(sock, cl)
  if cl.pending then
    local ok, _, code = cl.conn:receive(cl.pending)
    if ok then
      cl.pending = nil
    elseif code == ws.ERR.INPUT_FULL then
      return true -- keep the bytes; events and output first
    elseif code == ws.ERR.HANDSHAKE then
      cl.conn:reject(cl.conn:handshake_status_hint())
    else
      return true -- NO_MEMORY etc.: the engine queued a close; flush it
    end
  end
  return true
end

local function flush(sock, cl)
  while cl.conn:output_len() > 0 do
    local out = cl.conn:pending()
    local n, err, last = sock:send(out)
    local sent = n or last or 0
    if sent > 0 then cl.conn:consume(sent) end
    if not n then
      if err == "timeout" then return true end
      return false
    end
  end
  return true
end

while true do
  local readers, writers = { server }, {}
  for sock, cl in pairs(clients) do
    if cl.conn:wants_read() and not cl.pending then readers[#readers + 1] = sock end
    if cl.conn:output_len() > 0 then writers[#writers + 1] = sock end
  end
  local readable, writable = socket.select(readers, writers, 1)
  for _, sock in ipairs(readable) do
    if sock == server then
      local c = server:accept()
      if c then
        c:settimeout(0)
        c:setoption("tcp-nodelay", true)
        clients[c] = { conn = assert(ws.server(opts)) }
      end
    elseif clients[sock] then
      local cl = clients[sock]
      local data, err, partial = sock:receive(65536)
      data = data or partial
      if data and #data > 0 then cl.pending = data end
      if err == "closed" then cl.eof = true end
    end
  end
  for sock, cl in pairs(clients) do
    if feed(sock, cl) and handle_events(cl) then
      -- a refused chunk can be fed again once events were taken
      if cl.pending and cl.conn:wants_read() then feed(sock, cl); handle_events(cl) end
    end
    if cl.eof and not cl.pending and not cl.eof_fed then
      cl.eof_fed = true -- end of input after the last bytes were taken
      cl.conn:receive_eof()
      handle_events(cl)
    end
    if not flush(sock, cl) or cl.conn:wants_close_transport() then
      drop(sock)
    elseif not cl.conn:wants_read() and cl.conn:output_len() == 0 then
      drop(sock) -- events taken, output written, no input wanted: nothing left to do
    end
  end
end
