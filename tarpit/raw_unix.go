//go:build unix

package tarpit

import (
	"errors"
	"syscall"
)

const rawIO = true

// rawWrite writes p to the socket without waiting: a full socket buffer
// writes nothing and is not an error.
func rawWrite(rc syscall.RawConn, p []byte) (int, error) {
	var n int
	var werr error
	err := rc.Write(func(fd uintptr) bool {
		n, werr = syscall.Write(int(fd), p)
		return true
	})
	if err != nil {
		return 0, err
	}
	if n < 0 {
		n = 0
	}
	if errors.Is(werr, syscall.EAGAIN) || errors.Is(werr, syscall.EINTR) {
		return n, nil
	}
	return n, werr
}

// rawRead reads what is waiting on the socket without waiting; eof
// reports the client's FIN.
func rawRead(rc syscall.RawConn, buf []byte) (n int, eof bool, err error) {
	var rerr error
	cerr := rc.Read(func(fd uintptr) bool {
		n, rerr = syscall.Read(int(fd), buf)
		return true
	})
	if cerr != nil {
		return 0, false, cerr
	}
	if errors.Is(rerr, syscall.EAGAIN) || errors.Is(rerr, syscall.EINTR) {
		return 0, false, nil
	}
	if rerr != nil {
		return 0, false, rerr
	}
	return n, n == 0, nil
}
