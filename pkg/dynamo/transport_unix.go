//go:build unix

package dynamo

import (
	"crypto/tls"
	"errors"
	"net"
	"syscall"
)

// closedByPeer reports whether an idle connection can no longer carry a
// request: the server has closed it (a read would see EOF or a reset), or
// sent something unasked. It peeks without blocking and consumes nothing.
func closedByPeer(c net.Conn) bool {
	if t, ok := c.(*tls.Conn); ok {
		c = t.NetConn()
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	closed := false
	var one [1]byte
	err = raw.Read(func(fd uintptr) bool {
		n, _, err := syscall.Recvfrom(int(fd), one[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		closed = n >= 0 && err == nil || err != nil && !errors.Is(err, syscall.EAGAIN) && !errors.Is(err, syscall.EINTR)
		return true
	})
	return closed || err != nil
}
