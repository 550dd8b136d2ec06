// Command tarpitload opens N connections to a loopback server, sends a
// scanner's request on each (sqlmap's User-Agent, a decoy path), and holds
// them: it prints "held N" once every connection has had its request
// written and then keeps them open, reading nothing more, until killed.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	addr := flag.String("addr", "", "server address (loopback)")
	n := flag.Int("n", 10000, "connections")
	path := flag.String("path", "/api/v1/users/%d", "request path; %d is the connection number")
	flag.Parse()
	host, _, err := net.SplitHostPort(*addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		log.Fatal("tarpitload: -addr must be a loopback address")
	}
	conns := make([]net.Conn, *n)
	var failed atomic.Int64
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for i := 0; i < *n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := net.DialTimeout("tcp", *addr, 10*time.Second)
			if err != nil {
				failed.Add(1)
				return
			}
			req := fmt.Sprintf("GET "+*path+" HTTP/1.1\r\nHost: api.internal\r\nUser-Agent: sqlmap/1.8.2#stable (https://sqlmap.org)\r\nAccept: */*\r\n\r\n", i)
			if _, err := c.Write([]byte(req)); err != nil {
				failed.Add(1)
				c.Close()
				return
			}
			conns[i] = c
		}(i)
	}
	wg.Wait()
	fmt.Printf("held %d failed %d\n", *n-int(failed.Load()), failed.Load())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
}
