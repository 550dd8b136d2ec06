//go:build !unix

package tarpit

import "syscall"

// Without non-blocking system calls, writes go through the connection with
// a short deadline and closes are seen when a write fails.
const rawIO = false

func rawWrite(syscall.RawConn, []byte) (int, error) { return 0, syscall.EINVAL }

func rawRead(syscall.RawConn, []byte) (int, bool, error) { return 0, false, nil }
