package standin

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Queue is a unixgram listener standing in for analysisd's
// queue/sockets/queue. It keeps every datagram it receives.
type Queue struct {
	Path string

	conn     *net.UnixConn
	mu       sync.Mutex
	messages [][]byte
	arrived  chan struct{}
	done     chan struct{}
}

// ListenQueue binds a datagram socket at path, creating its directory.
// Unix socket paths are limited to about 108 bytes, so keep path short.
func ListenQueue(path string) (*Queue, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, err
	}
	os.Remove(path)
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return nil, fmt.Errorf("listen on queue socket %s: %w", path, err)
	}
	q := &Queue{Path: path, conn: conn, arrived: make(chan struct{}, 1), done: make(chan struct{})}
	go q.read()
	return q, nil
}

func (q *Queue) read() {
	defer close(q.done)
	buffer := make([]byte, 1<<17)
	for {
		n, _, err := q.conn.ReadFromUnix(buffer)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		message := append([]byte(nil), buffer[:n]...)
		q.mu.Lock()
		q.messages = append(q.messages, message)
		q.mu.Unlock()
		select {
		case q.arrived <- struct{}{}:
		default:
		}
	}
}

// Messages returns a copy of every datagram received so far, in order.
func (q *Queue) Messages() [][]byte {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make([][]byte, len(q.messages))
	copy(out, q.messages)
	return out
}

// Take returns the datagrams received so far and forgets them.
func (q *Queue) Take() [][]byte {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := q.messages
	q.messages = nil
	return out
}

// WaitFor waits until at least n datagrams are held or timeout passes, and
// reports whether they arrived. Datagrams are delivered before the sender's
// write returns, so after the sender exits a short wait is enough.
func (q *Queue) WaitFor(n int, timeout time.Duration) bool {
	deadline := time.After(timeout)
	for {
		q.mu.Lock()
		count := len(q.messages)
		q.mu.Unlock()
		if count >= n {
			return true
		}
		select {
		case <-q.arrived:
		case <-deadline:
			return false
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// Close stops the listener and removes the socket file.
func (q *Queue) Close() {
	q.conn.Close()
	<-q.done
	os.Remove(q.Path)
}
