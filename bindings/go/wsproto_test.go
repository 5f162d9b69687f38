package wsproto

import (
	"bytes"
	"errors"
	"runtime"
	"strings"
	"testing"
)

// pump moves all of from's output into to.
func pump(t *testing.T, from, to *Conn) {
	t.Helper()
	var buf bytes.Buffer
	if _, err := from.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	if buf.Len() > 0 {
		if err := to.Receive(buf.Bytes()); err != nil {
			t.Fatal(err)
		}
	}
}

func next(t *testing.T, c *Conn) Event {
	t.Helper()
	ev, ok, err := c.NextEvent()
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		t.Fatal("no event pending")
	}
	return ev
}

func noEvent(t *testing.T, c *Conn) {
	t.Helper()
	if ev, ok, err := c.NextEvent(); ok || err != nil {
		t.Fatalf("unexpected event %v / error %v", ev.Type, err)
	}
}

func openPair(t *testing.T, cfg *Config) (client, server *Conn) {
	t.Helper()
	client, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	server, err = NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	// Subprotocols and headers are Go strings: the binding copies them into
	// C memory (cgo forbids Go pointers to Go pointers). GC in between to
	// shake out any dangling use.
	if err := client.SendRequest("example.com:80", "/chat?room=1", []string{"v2.chat", "v1.chat"},
		[]Header{{"Origin", "http://example.com"}, {"X-Token", "abc"}}); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	pump(t, client, server)
	req := next(t, server)
	if req.Type != EventRequest || req.Target != "/chat?room=1" || req.Host != "example.com:80" {
		t.Fatalf("request: %+v", req)
	}
	if len(req.Subprotocols) != 2 || req.Subprotocols[0] != "v2.chat" || req.Subprotocols[1] != "v1.chat" {
		t.Fatalf("subprotocols: %q", req.Subprotocols)
	}
	found := false
	for _, h := range req.Headers {
		if strings.EqualFold(h.Name, "x-token") && h.Value == "abc" {
			found = true
		}
	}
	if !found {
		t.Fatalf("headers: %v", req.Headers)
	}
	if err := server.Accept("v1.chat", []Header{{"X-Server", "go"}}); err != nil {
		t.Fatal(err)
	}
	pump(t, server, client)
	acc := next(t, client)
	if acc.Type != EventAccept || acc.Subprotocol != "v1.chat" {
		t.Fatalf("accept: %+v", acc)
	}
	if client.State() != StateOpen || server.State() != StateOpen {
		t.Fatalf("states %d %d", client.State(), server.State())
	}
	return client, server
}

func TestHandshakeMessagesPingClose(t *testing.T) {
	for _, deflate := range []bool{false, true} {
		client, server := openPair(t, &Config{Deflate: deflate})
		if client.DeflateNegotiated() != deflate || server.DeflateNegotiated() != deflate {
			t.Fatalf("deflate negotiated: %v", client.DeflateNegotiated())
		}
		big := bytes.Repeat([]byte("wsproto "), 20000)
		must(t, client.SendString("hello"))
		must(t, client.SendBinary(big, 0))
		must(t, client.SendText([]byte("frag"), SendMore))
		must(t, client.SendText([]byte("ment"), 0))
		must(t, client.SendPing([]byte("p1")))
		pump(t, client, server)
		if ev := next(t, server); ev.Type != EventText || string(ev.Data) != "hello" || !ev.MessageFinished() {
			t.Fatalf("text: %+v", ev)
		}
		if ev := next(t, server); ev.Type != EventBinary || !bytes.Equal(ev.Data, big) {
			t.Fatalf("binary: %v %d", ev.Type, len(ev.Data))
		}
		if ev := next(t, server); ev.Type != EventText || string(ev.Data) != "fragment" {
			t.Fatalf("fragments: %+v", ev)
		}
		if ev := next(t, server); ev.Type != EventPing || string(ev.Data) != "p1" {
			t.Fatalf("ping: %+v", ev)
		}
		noEvent(t, server)
		pump(t, server, client) // the automatic pong
		if ev := next(t, client); ev.Type != EventPong || string(ev.Data) != "p1" {
			t.Fatalf("pong: %+v", ev)
		}
		// Borrowed data aliases the library's buffer until the next call.
		must(t, server.SendBinary([]byte{1, 2, 3}, 0))
		pump(t, server, client)
		var ev Event
		ok, err := client.NextEventBorrowed(&ev)
		if !ok || err != nil || !bytes.Equal(ev.Data, []byte{1, 2, 3}) {
			t.Fatalf("borrowed: %v %v %v", ok, err, ev.Data)
		}
		must(t, client.SendClose(1000, "bye"))
		pump(t, client, server)
		if ev := next(t, server); ev.Type != EventClose || ev.Code != 1000 || string(ev.Data) != "bye" {
			t.Fatalf("close: %+v", ev)
		}
		pump(t, server, client)
		if ev := next(t, client); ev.Type != EventClose || ev.Code != 1000 {
			t.Fatalf("close reply: %+v", ev)
		}
		if !client.WantsCloseTransport() || !server.WantsCloseTransport() {
			t.Fatal("wants close transport")
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestErrors(t *testing.T) {
	c, err := NewClient(nil)
	must(t, err)
	err = c.SendString("too early")
	var werr *Error
	if !errors.As(err, &werr) || werr.Code != CodeWrongState || !errors.Is(err, ErrWrongState) || werr.Message == "" {
		t.Fatalf("want WRONG_STATE with a message, got %v", err)
	}
	c.Close()
	c.Close() // idempotent
	if err := c.SendString("x"); err != ErrFreed {
		t.Fatalf("after Close: %v", err)
	}
	client, server := openPair(t, nil)
	if err := client.SendText([]byte{0xff}, 0); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("invalid UTF-8: %v", err)
	}
	if err := client.SendPing(make([]byte, 126)); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("long ping: %v", err)
	}
	if err := server.Accept("", nil); !errors.Is(err, ErrWrongState) {
		t.Fatalf("accept twice: %v", err)
	}
	// A bad request: ErrHandshake, then reject with the hint.
	s, _ := NewServer(nil)
	defer s.Close()
	if err := s.Receive([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")); !errors.Is(err, ErrHandshake) {
		t.Fatalf("handshake: %v", err)
	}
	must(t, s.Reject(s.HandshakeStatusHint(), []Header{{"X-Why", "test"}}, false))
	var out bytes.Buffer
	if _, err := s.WriteTo(&out); err != nil || !strings.HasPrefix(out.String(), "HTTP/1.1 4") {
		t.Fatalf("rejection: %q %v", out.String(), err)
	}
	// A protocol violation from the peer is a CLOSE event, not an error.
	srv, _ := NewFramesOnly(nil, RoleServer, nil)
	defer srv.Close()
	must(t, srv.Receive([]byte{0x81, 0x01, 'x'})) // unmasked frame from a client
	if ev := next(t, srv); ev.Type != EventClose || ev.Code != 1002 || ev.Flags&FlagProtocolError == 0 {
		t.Fatalf("protocol error: %+v", ev)
	}
}

func TestLimitsAndInputFull(t *testing.T) {
	srv, err := NewFramesOnly(&Config{MaxMessageSize: 100}, RoleServer, nil)
	must(t, err)
	defer srv.Close()
	cli, err := NewFramesOnly(nil, RoleClient, nil)
	must(t, err)
	defer cli.Close()
	must(t, cli.SendBinary(make([]byte, 101), 0))
	pump(t, cli, srv)
	if ev := next(t, srv); ev.Type != EventClose || ev.Code != 1009 {
		t.Fatalf("over limit: %+v", ev)
	}

	// Events not taken pause parsing; fed input beyond max_buffered_input
	// is refused with ErrInputFull and must be fed again.
	srv2, err := NewFramesOnly(&Config{MaxBufferedInput: 4096}, RoleServer, nil)
	must(t, err)
	defer srv2.Close()
	cli2, _ := NewFramesOnly(nil, RoleClient, nil)
	defer cli2.Close()
	for i := 0; i < 6000; i++ {
		must(t, cli2.SendBinary([]byte("x"), 0))
	}
	var wire bytes.Buffer
	cli2.WriteTo(&wire)
	data := wire.Bytes()
	received, refused := 0, 0
	for len(data) > 0 {
		n := 1024
		if n > len(data) {
			n = len(data)
		}
		err := srv2.Receive(data[:n])
		if errors.Is(err, ErrInputFull) {
			refused++
			if srv2.WantsRead() {
				t.Fatal("WantsRead true while input is full")
			}
			for {
				_, ok, err := srv2.NextEvent()
				must(t, err)
				if !ok {
					break
				}
				received++
			}
			continue // feed the same bytes again
		}
		must(t, err)
		data = data[n:]
	}
	for {
		_, ok, err := srv2.NextEvent()
		must(t, err)
		if !ok {
			break
		}
		received++
	}
	if received != 6000 || refused == 0 {
		t.Fatalf("received %d messages, %d refusals", received, refused)
	}
	if srv2.MemoryUsed() <= 0 {
		t.Fatal("memory used")
	}
}

func TestStreamMode(t *testing.T) {
	srv, _ := NewFramesOnly(&Config{StreamMessages: true}, RoleServer, nil)
	defer srv.Close()
	cli, _ := NewFramesOnly(nil, RoleClient, nil)
	defer cli.Close()
	must(t, cli.SendBinary([]byte("ab"), SendMore))
	must(t, cli.SendBinary([]byte("cd"), 0))
	pump(t, cli, srv)
	var got []byte
	for {
		ev, ok, err := srv.NextEvent()
		must(t, err)
		if !ok {
			break
		}
		got = append(got, ev.Data...)
		if ev.MessageFinished() {
			break
		}
	}
	if string(got) != "abcd" {
		t.Fatalf("stream: %q", got)
	}
}

func TestABI(t *testing.T) {
	if ErrABIMismatch != nil {
		t.Fatal(ErrABIMismatch)
	}
	if Version() == "" || ResultString(CodeInputFull) == "" {
		t.Fatal("version/result string")
	}
}

// echoOnce runs one 32-byte echo through a client/server pair in memory:
// client send -> server receive -> event -> server send -> client receive
// -> event. The C benchmark (tests/bindings/bench_c.c) does the same.
func BenchmarkEcho32(b *testing.B) {
	cli, err := NewFramesOnly(nil, RoleClient, nil)
	if err != nil {
		b.Fatal(err)
	}
	srv, err := NewFramesOnly(nil, RoleServer, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer cli.Close()
	defer srv.Close()
	msg := bytes.Repeat([]byte("x"), 32)
	buf := make([]byte, 4096)
	var ev Event
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cli.SendBinary(msg, 0)
		n, _ := cli.Read(buf)
		srv.Receive(buf[:n])
		srv.NextEventBorrowed(&ev)
		srv.SendBinary(ev.Data, 0)
		n, _ = srv.Read(buf)
		cli.Receive(buf[:n])
		if ok, _ := cli.NextEventBorrowed(&ev); !ok || len(ev.Data) != 32 {
			b.Fatal("echo failed")
		}
	}
}
