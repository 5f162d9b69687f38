// Package wsproto is a Go binding of wsproto, a sans-I/O WebSocket engine
// (RFC 6455 + RFC 7692 permessage-deflate) with a C ABI.
//
// The engine owns no sockets: feed it what you read (Receive), take events
// (NextEvent), queue messages (Send*), and write its output to your
// transport (WriteTo, an io.WriterTo). Declarations come from the C header
// through cgo, so they cannot drift from it; at init the package checks
// that the library it is linked with agrees on the ws_event_t layout (the
// library's ws_abi_sizeof when it has one, and a probe that parses known
// frames and checks every field); on a mismatch every constructor returns
// ErrABIMismatch.
//
// Building: by default cgo looks for the header in ../../include and the
// library in ../../target/release (a checkout after `cargo build
// --release`). Elsewhere set CGO_CFLAGS / CGO_LDFLAGS (for example from
// `pkg-config --cflags --libs wsproto`).
//
// A Conn is not safe for concurrent use: use it from one goroutine at a
// time (it may move between goroutines). Errors are *Error values carrying
// the library's code and message; compare with errors.Is(err, ErrInputFull)
// and friends.
package wsproto

/*
#cgo CFLAGS: -I${SRCDIR}/../../include
#cgo LDFLAGS: -L${SRCDIR}/../../target/release -lwsproto -Wl,-rpath,${SRCDIR}/../../target/release
#include <stdlib.h>
#include <string.h>
#include "wsproto.h"

// The library's own idea of sizeof(ws_event_t), when it can say (the ABI
// check of newer headers); 0 when this header has no ws_abi_sizeof.
static size_t wsgo_lib_event_size(void) {
#ifdef WSPROTO_ABI_VERSION
	return ws_abi_sizeof(WS_ABI_EVENT);
#else
	return 0;
#endif
}
*/
import "C"

import (
	"errors"
	"fmt"
	"io"
	"unsafe"
)

// Result codes (ws_result_t).
const (
	codeOK              = 0
	CodeNullArgument    = 7001
	CodeInvalidArgument = 7002
	CodeWrongState      = 7003
	CodeHandshake       = 7004
	CodeClosed          = 7005
	CodeBufferTooSmall  = 7006
	CodeRNG             = 7007
	CodePanic           = 7008
	CodePoisoned        = 7009
	CodeNoMemory        = 7010
	CodeInputFull       = 7011
)

// Error is a failed library call: its ws_result_t code, the static
// description of the code, and the connection's detailed message.
type Error struct {
	Code    uint32
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("wsproto: %s (%d)", e.Message, e.Code) }

// Is makes errors.Is(err, ErrInputFull) (etc.) match on the code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Sentinels for errors.Is.
var (
	ErrInvalidArgument = &Error{Code: CodeInvalidArgument}
	ErrWrongState      = &Error{Code: CodeWrongState}
	ErrHandshake       = &Error{Code: CodeHandshake}
	ErrClosed          = &Error{Code: CodeClosed}
	ErrRNG             = &Error{Code: CodeRNG}
	ErrNoMemory        = &Error{Code: CodeNoMemory}
	ErrInputFull       = &Error{Code: CodeInputFull}
	ErrPoisoned        = &Error{Code: CodePoisoned}
	// ErrFreed is returned by calls on a Conn after Close.
	ErrFreed = errors.New("wsproto: connection is closed (freed)")
	// ErrABIMismatch: the library disagrees with the header about ws_event_t.
	ErrABIMismatch error
)

func init() {
	lib := uintptr(C.wsgo_lib_event_size())
	if lib != 0 && lib != unsafe.Sizeof(C.ws_event_t{}) {
		ErrABIMismatch = fmt.Errorf("wsproto: library sizeof(ws_event_t) = %d, header says %d", lib, unsafe.Sizeof(C.ws_event_t{}))
		return
	}
	ErrABIMismatch = probeLayout()
}

// probeLayout has a server connection parse a masked text frame "probe"
// and a close frame 4321 "why", and checks every ws_event_t field this
// package reads: a header that does not describe the linked library fails
// here instead of misreading events later.
func probeLayout() error {
	wire := []byte("\x81\x85\x00\x00\x00\x00probe\x88\x85\x00\x00\x00\x00\x10\xe1why")
	var c *C.ws_conn_t
	if r := uint32(C.ws_conn_new_frames_only(nil, C.ws_role_t(RoleServer), bytesPtr(wire), C.size_t(len(wire)), &c)); r != codeOK {
		return fmt.Errorf("wsproto: layout probe: %s", ResultString(r))
	}
	defer C.ws_conn_free(c)
	var ev C.ws_event_t
	C.ws_conn_poll_event(c, &ev)
	ok := ev._type == C.WS_EVENT_TEXT && ev.len == 5 && C.GoStringN((*C.char)(unsafe.Pointer(ev.data)), 5) == "probe" &&
		ev.flags == 3 && ev.code == 0 && ev.target.len == 0 && ev.headers_len == 0 && ev.subprotocols_len == 0
	C.ws_conn_poll_event(c, &ev)
	ok = ok && ev._type == C.WS_EVENT_CLOSE && ev.code == 4321 && ev.len == 3 &&
		C.GoStringN((*C.char)(unsafe.Pointer(ev.data)), 3) == "why" && ev.host.len == 0
	if !ok {
		return errors.New("wsproto: ws_event_t in the header does not match the linked library")
	}
	return nil
}

// ResultString is the library's description of a result code.
func ResultString(code uint32) string { return C.GoString(C.ws_result_str(C.ws_result_t(code))) }

// Version is the library's version string.
func Version() string { return C.GoString(C.ws_version()) }

// EventType says what an Event is.
type EventType uint32

// Event types (ws_event_type_t).
const (
	EventNone EventType = iota
	EventRequest
	EventAccept
	EventReject
	EventRejectData
	EventText
	EventBinary
	EventPing
	EventPong
	EventClose
)

var eventNames = [...]string{"NONE", "REQUEST", "ACCEPT", "REJECT", "REJECT_DATA", "TEXT", "BINARY", "PING", "PONG", "CLOSE"}

func (t EventType) String() string {
	if int(t) < len(eventNames) {
		return eventNames[t]
	}
	return fmt.Sprintf("EventType(%d)", uint32(t))
}

// Event flags (WS_EVENT_FLAG_*).
const (
	FlagFrameFinished   = 1
	FlagMessageFinished = 2
	FlagHasBody         = 4
	FlagProtocolError   = 8
)

// Send flags (WS_SEND_*).
const (
	SendMore       = 1
	SendNoCompress = 2
)

// State is the connection state (ws_state_t).
type State uint32

// States.
const (
	StateConnecting State = iota
	StateOpen
	StateRemoteClosing
	StateLocalClosing
	StateClosed
	StateRejecting
)

// Header is an HTTP header field.
type Header struct{ Name, Value string }

// Event is one event. NextEvent returns it with everything copied into Go
// memory; NextEventBorrowed lets Data alias the library's memory.
type Event struct {
	Type  EventType
	Flags uint32
	// Code: CLOSE: the close code; REJECT: the HTTP status.
	Code uint16
	// Data: payload (TEXT, BINARY, PING, PONG, REJECT_DATA) or close reason.
	Data []byte
	// REQUEST / ACCEPT fields.
	Target, Host, Subprotocol, Extensions string
	Subprotocols                          []string
	Headers                               []Header
}

// MessageFinished reports the last chunk of a message (always set in whole mode).
func (e *Event) MessageFinished() bool { return e.Flags&FlagMessageFinished != 0 }

// Config holds connection options; the zero value means the library defaults.
type Config struct {
	MaxFrameSize     uint64 // 0: default
	MaxMessageSize   uint64 // 0: default
	MemoryBudget     uint64 // 0: default
	MaxBufferedInput int    // 0: default
	OutputHighWater  int    // 0: default
	Deflate          bool   // offer (client) / accept (server) permessage-deflate
	NoAutoPong       bool   // deliver pings without answering them
	NoAutoCloseReply bool   // do not answer a close automatically
	StreamMessages   bool   // deliver messages as chunks (stream mode)
}

func (cfg *Config) build() (*C.ws_config_t, error) {
	if ErrABIMismatch != nil {
		return nil, ErrABIMismatch
	}
	c := C.ws_config_new()
	if c == nil {
		return nil, &Error{Code: CodeNoMemory, Message: ResultString(CodeNoMemory)}
	}
	if cfg == nil {
		return c, nil
	}
	var rs []uint32
	if cfg.MaxFrameSize != 0 {
		rs = append(rs, uint32(C.ws_config_set_max_frame_size(c, C.uint64_t(cfg.MaxFrameSize))))
	}
	if cfg.MaxMessageSize != 0 {
		rs = append(rs, uint32(C.ws_config_set_max_message_size(c, C.uint64_t(cfg.MaxMessageSize))))
	}
	if cfg.MemoryBudget != 0 {
		rs = append(rs, uint32(C.ws_config_set_memory_budget(c, C.uint64_t(cfg.MemoryBudget))))
	}
	if cfg.MaxBufferedInput != 0 {
		rs = append(rs, uint32(C.ws_config_set_max_buffered_input(c, C.size_t(cfg.MaxBufferedInput))))
	}
	if cfg.OutputHighWater != 0 {
		rs = append(rs, uint32(C.ws_config_set_output_high_water(c, C.size_t(cfg.OutputHighWater))))
	}
	rs = append(rs, uint32(C.ws_config_set_deflate(c, C.bool(cfg.Deflate))))
	rs = append(rs, uint32(C.ws_config_set_auto_pong(c, C.bool(!cfg.NoAutoPong))))
	rs = append(rs, uint32(C.ws_config_set_auto_close_reply(c, C.bool(!cfg.NoAutoCloseReply))))
	if cfg.StreamMessages {
		rs = append(rs, uint32(C.ws_config_set_message_mode(c, C.ws_message_mode_t(C.WS_MESSAGE_MODE_STREAM))))
	}
	for _, r := range rs {
		if r != codeOK {
			C.ws_config_free(c)
			return nil, &Error{Code: r, Message: ResultString(r)}
		}
	}
	return c, nil
}

// Conn is one WebSocket connection. Call Close when done with it.
type Conn struct {
	c  *C.ws_conn_t
	ev C.ws_event_t
}

// Role of a frames-only connection.
type Role uint32

// Roles.
const (
	RoleClient Role = 0
	RoleServer Role = 1
)

func newConn(cfg *Config, mk func(*C.ws_config_t, **C.ws_conn_t) C.uint32_t) (*Conn, error) {
	cc, err := cfg.build()
	if err != nil {
		return nil, err
	}
	defer C.ws_config_free(cc)
	var c *C.ws_conn_t
	if r := uint32(mk(cc, &c)); r != codeOK {
		return nil, &Error{Code: r, Message: ResultString(r)}
	}
	return &Conn{c: c}, nil
}

// NewServer creates a server connection (expects the client's upgrade request).
func NewServer(cfg *Config) (*Conn, error) {
	return newConn(cfg, func(cc *C.ws_config_t, out **C.ws_conn_t) C.uint32_t {
		return C.uint32_t(C.ws_conn_new_server(cc, out))
	})
}

// NewClient creates a client connection; then call SendRequest.
func NewClient(cfg *Config) (*Conn, error) {
	return newConn(cfg, func(cc *C.ws_config_t, out **C.ws_conn_t) C.uint32_t {
		return C.uint32_t(C.ws_conn_new_client(cc, out))
	})
}

// NewFramesOnly creates a connection that starts OPEN (the handshake
// happened elsewhere). trailing are bytes already read past the handshake.
func NewFramesOnly(cfg *Config, role Role, trailing []byte) (*Conn, error) {
	return newConn(cfg, func(cc *C.ws_config_t, out **C.ws_conn_t) C.uint32_t {
		return C.uint32_t(C.ws_conn_new_frames_only(cc, C.ws_role_t(role), bytesPtr(trailing), C.size_t(len(trailing)), out))
	})
}

// Close frees the connection. Later calls return ErrFreed; Close is idempotent.
func (c *Conn) Close() error {
	if c.c != nil {
		C.ws_conn_free(c.c)
		c.c = nil
	}
	return nil
}

// bytesPtr is the C view of p for the library's byte arguments (const
// void *); nil for an empty slice.
func bytesPtr(p []byte) unsafe.Pointer {
	if len(p) == 0 {
		return nil
	}
	return unsafe.Pointer(&p[0])
}

func (c *Conn) err(r uint32) error {
	if r == codeOK {
		return nil
	}
	msg := ResultString(r)
	if c.c != nil {
		if d := C.GoString(C.ws_conn_last_error(c.c)); d != "" {
			msg = d
		}
	}
	return &Error{Code: r, Message: msg}
}

// Receive feeds bytes read from the transport (they are copied or parsed
// before it returns). ErrInputFull: nothing was taken; take events and write
// output, then feed the same bytes again. Check WantsRead before reading.
func (c *Conn) Receive(p []byte) error {
	if c.c == nil {
		return ErrFreed
	}
	return c.err(uint32(C.ws_conn_receive(c.c, bytesPtr(p), C.size_t(len(p)))))
}

// ReceiveEOF tells the connection that the transport reached end of input.
func (c *Conn) ReceiveEOF() error {
	if c.c == nil {
		return ErrFreed
	}
	return c.err(uint32(C.ws_conn_receive_eof(c.c)))
}

func goString(s C.ws_str_t) string {
	if s.len == 0 {
		return ""
	}
	return C.GoStringN(s.ptr, C.int(s.len))
}

func (c *Conn) poll() (bool, error) {
	if c.c == nil {
		return false, ErrFreed
	}
	if r := uint32(C.ws_conn_poll_event(c.c, &c.ev)); r != codeOK {
		return false, c.err(r)
	}
	return c.ev._type != C.WS_EVENT_NONE, nil
}

func (c *Conn) fill(ev *Event, borrow bool) {
	e := &c.ev
	*ev = Event{Type: EventType(e._type), Flags: uint32(e.flags), Code: uint16(e.code)}
	if e.len > 0 {
		if borrow {
			ev.Data = unsafe.Slice((*byte)(unsafe.Pointer(e.data)), int(e.len))
		} else {
			ev.Data = C.GoBytes(unsafe.Pointer(e.data), C.int(e.len))
		}
	}
	switch ev.Type {
	case EventRequest, EventAccept, EventReject:
		ev.Target = goString(e.target)
		ev.Host = goString(e.host)
		ev.Subprotocol = goString(e.subprotocol)
		ev.Extensions = goString(e.extensions)
		if e.subprotocols_len > 0 {
			for _, s := range unsafe.Slice(e.subprotocols, int(e.subprotocols_len)) {
				ev.Subprotocols = append(ev.Subprotocols, goString(s))
			}
		}
		if e.headers_len > 0 {
			for _, h := range unsafe.Slice(e.headers, int(e.headers_len)) {
				ev.Headers = append(ev.Headers, Header{goString(h.name), goString(h.value)})
			}
		}
	}
}

// NextEvent takes the next event, copied into Go memory. ok is false when
// no event is pending (then read more input or write output).
func (c *Conn) NextEvent() (ev Event, ok bool, err error) {
	ok, err = c.poll()
	if ok {
		c.fill(&ev, false)
	}
	return
}

// NextEventBorrowed is NextEvent without the copy of Data: ev.Data aliases
// the library's memory and is valid only until the next call on c. Strings
// (request fields) are still copied.
func (c *Conn) NextEventBorrowed(ev *Event) (ok bool, err error) {
	ok, err = c.poll()
	if ok {
		c.fill(ev, true)
	}
	return
}

// SendText queues a text message (data must be UTF-8), or a fragment of one
// with flags SendMore.
func (c *Conn) SendText(data []byte, flags uint32) error {
	if c.c == nil {
		return ErrFreed
	}
	return c.err(uint32(C.ws_conn_send_text(c.c, bytesPtr(data), C.size_t(len(data)), C.uint32_t(flags))))
}

// SendString queues a whole text message.
func (c *Conn) SendString(s string) error { return c.SendText([]byte(s), 0) }

// SendBinary queues a binary message, or a fragment of one with SendMore.
func (c *Conn) SendBinary(data []byte, flags uint32) error {
	if c.c == nil {
		return ErrFreed
	}
	return c.err(uint32(C.ws_conn_send_binary(c.c, bytesPtr(data), C.size_t(len(data)), C.uint32_t(flags))))
}

// SendPing queues a ping (payload at most 125 bytes).
func (c *Conn) SendPing(data []byte) error {
	if c.c == nil {
		return ErrFreed
	}
	return c.err(uint32(C.ws_conn_send_ping(c.c, bytesPtr(data), C.size_t(len(data)))))
}

// SendPong queues a pong.
func (c *Conn) SendPong(data []byte) error {
	if c.c == nil {
		return ErrFreed
	}
	return c.err(uint32(C.ws_conn_send_pong(c.c, bytesPtr(data), C.size_t(len(data)))))
}

// SendClose starts or answers the closing handshake (code 0: no status).
func (c *Conn) SendClose(code uint16, reason string) error {
	if c.c == nil {
		return ErrFreed
	}
	r := []byte(reason)
	return c.err(uint32(C.ws_conn_send_close(c.c, C.uint16_t(code), bytesPtr(r), C.size_t(len(r)))))
}

// cStrings holds strings copied into C memory (cgo forbids passing Go
// memory that contains Go pointers, such as a []C.ws_str_t pointing at Go
// strings). free releases it.
type cStrings struct {
	block unsafe.Pointer
}

func (a *cStrings) free() {
	if a.block != nil {
		C.free(a.block)
		a.block = nil
	}
}

// build copies strs and headers into one C allocation laid out as
// [ws_str_t x len(strs)][ws_header_t x len(headers)][bytes...].
func (a *cStrings) build(strs []string, headers []Header) (*C.ws_str_t, *C.ws_header_t) {
	nbytes := 0
	for _, s := range strs {
		nbytes += len(s)
	}
	for _, h := range headers {
		nbytes += len(h.Name) + len(h.Value)
	}
	strSize := unsafe.Sizeof(C.ws_str_t{})
	hdrSize := unsafe.Sizeof(C.ws_header_t{})
	head := uintptr(len(strs))*strSize + uintptr(len(headers))*hdrSize
	if head+uintptr(nbytes) == 0 {
		return nil, nil
	}
	a.block = C.malloc(C.size_t(head + uintptr(nbytes)))
	if a.block == nil {
		panic("wsproto: out of memory")
	}
	strArr := unsafe.Slice((*C.ws_str_t)(a.block), len(strs))
	hdrArr := unsafe.Slice((*C.ws_header_t)(unsafe.Add(a.block, uintptr(len(strs))*strSize)), len(headers))
	data := unsafe.Slice((*byte)(unsafe.Add(a.block, head)), nbytes)
	off := 0
	put := func(s string) C.ws_str_t {
		if len(s) == 0 {
			return C.ws_str_t{}
		}
		copy(data[off:], s)
		p := (*C.char)(unsafe.Pointer(&data[off]))
		off += len(s)
		return C.ws_str_t{ptr: p, len: C.size_t(len(s))}
	}
	for i, s := range strs {
		strArr[i] = put(s)
	}
	for i, h := range headers {
		hdrArr[i] = C.ws_header_t{name: put(h.Name), value: put(h.Value)}
	}
	var sp *C.ws_str_t
	var hp *C.ws_header_t
	if len(strs) > 0 {
		sp = &strArr[0]
	}
	if len(headers) > 0 {
		hp = &hdrArr[0]
	}
	return sp, hp
}

// SendRequest (client) queues the HTTP upgrade request.
func (c *Conn) SendRequest(host, target string, subprotocols []string, headers []Header) error {
	if c.c == nil {
		return ErrFreed
	}
	var a cStrings
	defer a.free()
	sp, hp := a.build(append(append([]string{}, host, target), subprotocols...), headers)
	arr := unsafe.Slice(sp, 2+len(subprotocols))
	var subs *C.ws_str_t
	if len(subprotocols) > 0 {
		subs = &arr[2]
	}
	return c.err(uint32(C.ws_conn_send_request(c.c, unsafe.Pointer(arr[0].ptr), arr[0].len, unsafe.Pointer(arr[1].ptr), arr[1].len,
		subs, C.size_t(len(subprotocols)), hp, C.size_t(len(headers)))))
}

// Accept (server, after EventRequest) queues the 101 response;
// subprotocol "" chooses none.
func (c *Conn) Accept(subprotocol string, headers []Header) error {
	if c.c == nil {
		return ErrFreed
	}
	var a cStrings
	defer a.free()
	sp, hp := a.build([]string{subprotocol}, headers)
	return c.err(uint32(C.ws_conn_accept(c.c, unsafe.Pointer(sp.ptr), sp.len, hp, C.size_t(len(headers)))))
}

// Reject (server) queues a rejection with an HTTP status; with hasBody,
// send the body with RejectData.
func (c *Conn) Reject(status uint16, headers []Header, hasBody bool) error {
	if c.c == nil {
		return ErrFreed
	}
	var a cStrings
	defer a.free()
	_, hp := a.build(nil, headers)
	return c.err(uint32(C.ws_conn_reject(c.c, C.uint16_t(status), hp, C.size_t(len(headers)), C.bool(hasBody))))
}

// RejectData queues part of a rejection body.
func (c *Conn) RejectData(data []byte, finished bool) error {
	if c.c == nil {
		return ErrFreed
	}
	return c.err(uint32(C.ws_conn_reject_data(c.c, bytesPtr(data), C.size_t(len(data)), C.bool(finished))))
}

// OutputLen is the number of bytes waiting to be written.
func (c *Conn) OutputLen() int {
	if c.c == nil {
		return 0
	}
	return int(C.ws_conn_output_len(c.c))
}

// Read copies pending output into p (an io.Reader over the output; returns
// 0, nil when nothing is pending — it never blocks).
func (c *Conn) Read(p []byte) (int, error) {
	if c.c == nil {
		return 0, ErrFreed
	}
	var n C.size_t
	if r := uint32(C.ws_conn_output_copy(c.c, bytesPtr(p), C.size_t(len(p)), &n)); r != codeOK {
		return 0, c.err(r)
	}
	return int(n), nil
}

// WriteTo writes the pending output to w (zero-copy from the library's
// buffer), consuming what w accepted; partial writes keep the rest. It
// implements io.WriterTo.
func (c *Conn) WriteTo(w io.Writer) (int64, error) {
	if c.c == nil {
		return 0, ErrFreed
	}
	var total int64
	for {
		var p *C.uint8_t
		var n C.size_t
		if r := uint32(C.ws_conn_output_peek(c.c, &p, &n)); r != codeOK {
			return total, c.err(r)
		}
		if n == 0 {
			return total, nil
		}
		// The view stays valid until the next non-const call on c; w must
		// not keep it (io.Writer's contract).
		wn, err := w.Write(unsafe.Slice((*byte)(unsafe.Pointer(p)), int(n)))
		if wn > 0 {
			C.ws_conn_output_consume(c.c, C.size_t(wn))
			total += int64(wn)
		}
		if err != nil {
			return total, err
		}
		if wn == 0 {
			return total, io.ErrShortWrite
		}
	}
}

// State is the connection state.
func (c *Conn) State() State {
	if c.c == nil {
		return StateClosed
	}
	return State(C.ws_conn_state(c.c))
}

// WantsRead: read from the transport and Receive now. While false, stop
// reading; take events and write output.
func (c *Conn) WantsRead() bool { return c.c != nil && bool(C.ws_conn_wants_read(c.c)) }

// WantsCloseTransport: the closing handshake is done and the output written.
func (c *Conn) WantsCloseTransport() bool {
	return c.c == nil || bool(C.ws_conn_wants_close_transport(c.c))
}

// MemoryUsed is what the connection holds, as its memory budget counts it.
func (c *Conn) MemoryUsed() int {
	if c.c == nil {
		return 0
	}
	return int(C.ws_conn_memory_used(c.c))
}

// HandshakeStatusHint: after ErrHandshake, the HTTP status to reject with.
func (c *Conn) HandshakeStatusHint() uint16 {
	if c.c == nil {
		return 0
	}
	return uint16(C.ws_conn_handshake_status_hint(c.c))
}

// DeflateNegotiated reports whether permessage-deflate is in use.
func (c *Conn) DeflateNegotiated() bool {
	if c.c == nil {
		return false
	}
	var p C.ws_deflate_params_t
	return bool(C.ws_conn_deflate_params(c.c, &p))
}
