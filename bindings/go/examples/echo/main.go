// Command echo is a WebSocket echo server on net.Listener, one goroutine per
// connection, driving a wsproto.Conn with blocking reads and writes.
//
// Usage: echo [--host ADDR] [--port N] [--deflate]
// Prints "listening on PORT" once it accepts connections.
package main

import (
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"os"

	"wsproto"
)

func serve(nc net.Conn, cfg *wsproto.Config) {
	defer nc.Close()
	c, err := wsproto.NewServer(cfg)
	if err != nil {
		log.Print(err)
		return
	}
	defer c.Close()
	buf := make([]byte, 64<<10)
	var pending []byte // bytes read but refused (ErrInputFull): feed them again
	for {
		// Feed input only while the engine wants it.
		if c.WantsRead() {
			if len(pending) == 0 {
				n, err := nc.Read(buf)
				if n > 0 {
					pending = buf[:n]
				} else if err != nil {
					_ = c.ReceiveEOF()
				}
			}
			if len(pending) > 0 {
				err := c.Receive(pending)
				switch {
				case err == nil:
					pending = nil
				case errors.Is(err, wsproto.ErrInputFull):
					// Keep pending; take events and write below, then retry.
				case errors.Is(err, wsproto.ErrHandshake):
					_ = c.Reject(c.HandshakeStatusHint(), nil, false)
					_, _ = c.WriteTo(nc)
					return
				default:
					// WS_ERR_NO_MEMORY and others: the connection failed;
					// write what it queued (a close 1011) and stop.
					_, _ = c.WriteTo(nc)
					return
				}
			}
		}
		for {
			ev, ok, err := c.NextEvent()
			if err != nil {
				_, _ = c.WriteTo(nc)
				return
			}
			if !ok {
				break
			}
			switch ev.Type {
			case wsproto.EventRequest:
				err = c.Accept("", nil)
			case wsproto.EventText:
				err = c.SendText(ev.Data, 0)
			case wsproto.EventBinary:
				err = c.SendBinary(ev.Data, 0)
			}
			if err != nil && !errors.Is(err, wsproto.ErrWrongState) {
				log.Print(err)
			}
		}
		if _, err := c.WriteTo(nc); err != nil {
			return
		}
		if c.WantsCloseTransport() {
			return
		}
		if !c.WantsRead() && c.OutputLen() == 0 {
			// Events taken, output written, and still no input wanted: the
			// engine waits on nothing we can give it (input ended, or it
			// failed); bytes still pending can never be taken.
			return
		}
	}
}

func main() {
	host := flag.String("host", "127.0.0.1", "address to listen on")
	port := flag.Int("port", 9001, "port (0: pick one)")
	deflate := flag.Bool("deflate", false, "accept permessage-deflate")
	flag.Parse()
	ln, err := net.Listen("tcp", net.JoinHostPort(*host, fmt.Sprint(*port)))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("listening on %d\n", ln.Addr().(*net.TCPAddr).Port)
	os.Stdout.Sync()
	cfg := &wsproto.Config{Deflate: *deflate, MaxMessageSize: 16 << 20}
	for {
		nc, err := ln.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go serve(nc, cfg)
	}
}
