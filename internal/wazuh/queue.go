package wazuh

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"
)

// MaxMessageSize is the largest datagram analysisd reads whole, header
// included. It reads the queue socket with recvfrom into a 65535-byte buffer
// and silently drops the rest of a longer datagram, which leaves a JSON
// payload unparseable.
const MaxMessageSize = 65535

// DefaultSendTimeout bounds Queue.Send when Queue.Timeout is zero.
const DefaultSendTimeout = 2 * time.Second

// ErrMessageTooLarge is wrapped by the error Send returns for a message over
// MaxMessageSize.
var ErrMessageTooLarge = errors.New("message larger than analysisd reads")

// Queue is analysisd's queue socket (a unix datagram socket, normally
// <wazuh home>/queue/sockets/queue).
type Queue struct {
	// Path is the socket file.
	Path string
	// Timeout bounds one Send: dialling and every write. The kernel holds
	// only about 10 datagrams per unix socket (net.unix.max_dgram_qlen), so
	// a busy analysisd blocks senders, and the timeout turns that into an
	// error. Zero means DefaultSendTimeout, and a negative timeout fails
	// at once, as a budget that is already spent.
	Timeout time.Duration
}

// SendError reports a failed Send: which socket, how many of the messages
// went out before the failure, and the cause.
type SendError struct {
	Path  string
	Sent  int
	Total int
	Err   error
}

// Error names the socket, the count sent, the cause and, for the causes an
// operator can fix, what to do.
func (e *SendError) Error() string {
	msg := fmt.Sprintf("send to queue socket %s failed after %d of %d messages: %v",
		e.Path, e.Sent, e.Total, shortCause(e.Err))
	if hint := sendHint(e.Err); hint != "" {
		msg += ": " + hint
	}
	return msg
}

// Unwrap returns the cause, so errors.Is finds syscall errnos,
// os.ErrDeadlineExceeded, context errors and ErrMessageTooLarge.
func (e *SendError) Unwrap() error { return e.Err }

// Send writes each message as one datagram, in order, over one connection.
// It checks every size before sending anything, so an oversize message
// means nothing was sent. It gives up when q.Timeout passes or ctx is done,
// whichever comes first. Every error is a *SendError, which records how many
// messages went out.
func (q Queue) Send(ctx context.Context, msgs ...[]byte) error {
	fail := func(sent int, err error) error {
		return &SendError{Path: q.Path, Sent: sent, Total: len(msgs), Err: err}
	}

	for i, msg := range msgs {
		if len(msg) > MaxMessageSize {
			return fail(0, fmt.Errorf("message %d is %d bytes, over the %d-byte maximum: %w",
				i+1, len(msg), MaxMessageSize, ErrMessageTooLarge))
		}
	}
	if len(msgs) == 0 {
		return nil
	}

	timeout := q.Timeout
	if timeout == 0 {
		timeout = DefaultSendTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	var dialer net.Dialer
	conn, err := dialer.DialContext(ctx, "unixgram", q.Path)
	if err != nil {
		if info, statErr := os.Stat(q.Path); statErr == nil && info.Mode()&os.ModeSocket == 0 {
			err = fmt.Errorf("%w (mode %s): %w", errNotSocket, info.Mode().Type(), err)
		}
		return fail(0, err)
	}
	defer conn.Close()

	// A context deadline or cancellation becomes a write deadline, so a
	// write blocked on a full kernel queue returns.
	if deadline, ok := ctx.Deadline(); ok {
		if err := conn.SetWriteDeadline(deadline); err != nil {
			return fail(0, err)
		}
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetWriteDeadline(time.Now()) })
	defer stop()

	for i, msg := range msgs {
		if _, err := conn.Write(msg); err != nil {
			if ctxErr := context.Cause(ctx); ctxErr != nil && !errors.Is(ctxErr, context.DeadlineExceeded) {
				// Cancelled by the caller, not timed out.
				return fail(i, ctxErr)
			}
			return fail(i, err)
		}
	}
	return nil
}

// errNotSocket marks a queue path that exists but is a regular file or a
// directory, where connect fails with the same ECONNREFUSED as a socket
// with no reader.
var errNotSocket = errors.New("not a socket")

// sendHint returns what an operator should check for a send failure, or ""
// when the cause is clear by itself.
func sendHint(err error) string {
	switch {
	case errors.Is(err, errNotSocket):
		return "the path is not a socket: set wazuh.queue_socket to analysisd's queue socket, queue/sockets/queue under the Wazuh home"
	case errors.Is(err, syscall.ENOENT):
		return "queue socket not found: is wazuh-manager running, and is [wazuh] home right?"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "nobody is reading the queue socket: wazuh-analysisd is not running"
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return "run as the wazuh user or add it to the wazuh group"
	case errors.Is(err, syscall.EMSGSIZE):
		return "the datagram is larger than the socket send buffer (net.core.wmem_default) allows"
	case errors.Is(err, syscall.EPROTOTYPE):
		return "the path is a stream socket, not analysisd's queue socket: check [wazuh] home"
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		return "timed out: the socket's queue stayed full, so wazuh-analysisd is busy or stalled"
	case errors.Is(err, ErrMessageTooLarge):
		return "the event must be trimmed to fit before it is sent"
	}
	return ""
}

// shortCause drops the "dial unixgram <path>" or "write unixgram ..." prefix
// of a *net.OpError, because SendError already names the socket.
func shortCause(err error) error {
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Err != nil {
		return fmt.Errorf("%s: %w", opErr.Op, opErr.Err)
	}
	return err
}
