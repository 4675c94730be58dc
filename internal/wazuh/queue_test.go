package wazuh

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// listenQueue binds a unix datagram socket standing in for analysisd. The
// directory comes from os.MkdirTemp because t.TempDir paths can exceed the
// 108-byte limit on socket paths.
func listenQueue(t *testing.T) (string, *net.UnixConn) {
	t.Helper()
	dir, err := os.MkdirTemp("", "q")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })

	path := filepath.Join(dir, "queue")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return path, conn
}

// readDatagram returns the next datagram, failing the test after a second.
func readDatagram(t *testing.T, conn *net.UnixConn) []byte {
	t.Helper()
	buf := make([]byte, 2*MaxMessageSize)
	if err := conn.SetReadDeadline(time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatalf("read datagram: %v", err)
	}
	return buf[:n]
}

// assertNothingQueued fails if a datagram arrives within 50 ms.
func assertNothingQueued(t *testing.T, conn *net.UnixConn) {
	t.Helper()
	if err := conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	if n, err := conn.Read(buf); err == nil {
		t.Fatalf("got an unexpected datagram starting %q", buf[:n])
	}
}

func asSendError(t *testing.T, err error) *SendError {
	t.Helper()
	var sendErr *SendError
	if !errors.As(err, &sendErr) {
		t.Fatalf("error %v (%T) is not a *SendError", err, err)
	}
	return sendErr
}

func TestSendDeliversExactBytes(t *testing.T) {
	path, conn := listenQueue(t)
	first := Message(Location("033", "WIN-HOST01", "192.168.252.120", "misp"), []byte(`{"integration":"misp","n":1}`))
	second := Message(Location("034", "lab", "fe80::1", "misp"), []byte(`{"integration":"misp","n":2}`))

	err := Queue{Path: path}.Send(context.Background(), first, second)

	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	wants := []string{
		`1:[033] (WIN-HOST01) 192.168.252.120->misp:{"integration":"misp","n":1}`,
		`1:[034] (lab) fe80|:|:1->misp:{"integration":"misp","n":2}`,
	}
	for i, want := range wants {
		if got := string(readDatagram(t, conn)); got != want {
			t.Errorf("datagram %d\n got %q\nwant %q", i+1, got, want)
		}
	}
}

func TestSendMaxSizeArrivesWhole(t *testing.T) {
	path, conn := listenQueue(t)
	msg := Message("misp", bytes.Repeat([]byte("x"), MaxMessageSize-len("1:misp:")))

	if err := (Queue{Path: path}).Send(context.Background(), msg); err != nil {
		t.Fatalf("Send of a %d-byte message: %v", len(msg), err)
	}

	if got := readDatagram(t, conn); !bytes.Equal(got, msg) {
		t.Fatalf("received %d bytes, want the %d sent", len(got), len(msg))
	}
}

func TestSendNoMessages(t *testing.T) {
	if err := (Queue{Path: "/nonexistent/queue"}).Send(context.Background()); err != nil {
		t.Fatalf("Send with no messages: %v", err)
	}
}

func TestSendOversizeSendsNothing(t *testing.T) {
	path, conn := listenQueue(t)
	small := Message("misp", []byte(`{"integration":"misp"}`))
	big := Message("misp", bytes.Repeat([]byte("y"), MaxMessageSize))

	err := Queue{Path: path}.Send(context.Background(), small, big)

	if !errors.Is(err, ErrMessageTooLarge) {
		t.Fatalf("got %v, want ErrMessageTooLarge", err)
	}
	if sendErr := asSendError(t, err); sendErr.Sent != 0 || sendErr.Total != 2 {
		t.Errorf("Sent, Total = %d, %d; want 0, 2", sendErr.Sent, sendErr.Total)
	}
	if want := "message 2 is 65542 bytes, over the 65535-byte maximum"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not contain %q", err, want)
	}
	assertNothingQueued(t, conn)
}

func TestSendMissingSocket(t *testing.T) {
	dir, err := os.MkdirTemp("", "q")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "queue")

	err = Queue{Path: path}.Send(context.Background(), []byte("1:misp:{}"))

	if !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("got %v, want ENOENT", err)
	}
	want := "send to queue socket " + path + " failed after 0 of 1 messages: dial: connect: no such file or directory: " +
		"queue socket not found: is wazuh-manager running, and is [wazuh] home right?"
	if err.Error() != want {
		t.Errorf("error\n got %q\nwant %q", err, want)
	}
}

func TestSendNobodyReading(t *testing.T) {
	path, conn := listenQueue(t)
	conn.Close() // the socket file stays, as after analysisd dies

	err := Queue{Path: path}.Send(context.Background(), []byte("1:misp:{}"))

	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("got %v, want ECONNREFUSED", err)
	}
	if want := "wazuh-analysisd is not running"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not contain %q", err, want)
	}
}

func TestSendPermissionDenied(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root bypasses socket file permissions")
	}
	path, _ := listenQueue(t)
	if err := os.Chmod(path, 0o400); err != nil {
		t.Fatal(err)
	}

	err := Queue{Path: path}.Send(context.Background(), []byte("1:misp:{}"))

	if !errors.Is(err, syscall.EACCES) {
		t.Fatalf("got %v, want EACCES", err)
	}
	if want := "add it to the wazuh group"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not contain %q", err, want)
	}
}

func TestSendStreamSocket(t *testing.T) {
	dir, err := os.MkdirTemp("", "q")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "queue")
	listener, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer listener.Close()

	err = Queue{Path: path}.Send(context.Background(), []byte("1:misp:{}"))

	if !errors.Is(err, syscall.EPROTOTYPE) {
		t.Fatalf("got %v, want EPROTOTYPE", err)
	}
	if want := "not analysisd's queue socket"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not contain %q", err, want)
	}
}

func TestSendFullQueueTimesOut(t *testing.T) {
	path, _ := listenQueue(t) // never read: the kernel queue fills up
	msgs := make([][]byte, 50)
	for i := range msgs {
		msgs[i] = Message("misp", []byte(`{"integration":"misp"}`))
	}
	const timeout = 200 * time.Millisecond

	start := time.Now()
	err := Queue{Path: path, Timeout: timeout}.Send(context.Background(), msgs...)
	elapsed := time.Since(start)

	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("got %v, want a deadline error", err)
	}
	if elapsed > timeout+time.Second {
		t.Errorf("Send returned after %s, want about %s", elapsed, timeout)
	}
	sendErr := asSendError(t, err)
	if sendErr.Sent < 1 || sendErr.Sent >= len(msgs) {
		t.Errorf("Sent = %d, want between 1 and %d", sendErr.Sent, len(msgs)-1)
	}
	if want := "wazuh-analysisd is busy or stalled"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not contain %q", err, want)
	}
}

func TestSendCancelledWhileBlocked(t *testing.T) {
	path, _ := listenQueue(t)
	msgs := make([][]byte, 50)
	for i := range msgs {
		msgs[i] = []byte("1:misp:{}")
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)

	start := time.Now()
	err := Queue{Path: path, Timeout: time.Minute}.Send(ctx, msgs...)

	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("Send returned %s after the cancel, want promptly", elapsed)
	}
}

func TestSendDefaultTimeout(t *testing.T) {
	path, _ := listenQueue(t)
	msgs := make([][]byte, 50)
	for i := range msgs {
		msgs[i] = []byte("1:misp:{}")
	}

	start := time.Now()
	err := Queue{Path: path}.Send(context.Background(), msgs...)
	elapsed := time.Since(start)

	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("got %v, want a deadline error", err)
	}
	if elapsed < DefaultSendTimeout-100*time.Millisecond || elapsed > DefaultSendTimeout+time.Second {
		t.Errorf("Send returned after %s, want about %s", elapsed, DefaultSendTimeout)
	}
}

func TestSendHint(t *testing.T) {
	opErr := func(errno syscall.Errno) error {
		return &net.OpError{Op: "dial", Net: "unixgram", Err: os.NewSyscallError("connect", errno)}
	}
	tests := []struct {
		name string
		err  error

		want string
	}{
		{"missing socket", opErr(syscall.ENOENT), "is wazuh-manager running"},
		{"no reader", opErr(syscall.ECONNREFUSED), "wazuh-analysisd is not running"},
		{"permission", opErr(syscall.EACCES), "run as the wazuh user"},
		{"datagram too big", opErr(syscall.EMSGSIZE), "net.core.wmem_default"},
		{"stream socket", opErr(syscall.EPROTOTYPE), "not analysisd's queue socket"},
		{"write deadline", os.ErrDeadlineExceeded, "busy or stalled"},
		{"other errno", opErr(syscall.EIO), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := sendHint(tc.err)

			if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
				t.Fatalf("sendHint(%v) = %q, want it to contain %q", tc.err, got, tc.want)
			}
		})
	}
}

func TestSendNegativeTimeoutFails(t *testing.T) {
	path, conn := listenQueue(t)

	err := Queue{Path: path, Timeout: -time.Second}.Send(context.Background(), []byte("1:misp:{}"))

	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want a deadline error for a spent budget", err)
	}
	if want := "timed out"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not contain %q", err, want)
	}
	assertNothingQueued(t, conn)
}

func TestSendToRegularFileNamesTheProblem(t *testing.T) {
	path := filepath.Join(t.TempDir(), "queue")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}

	err := Queue{Path: path}.Send(context.Background(), []byte("1:misp:{}"))

	if err == nil || !strings.Contains(err.Error(), "not a socket") || !strings.Contains(err.Error(), "wazuh.queue_socket") {
		t.Errorf("error = %v, want it to say the path is not a socket and name the setting", err)
	}
}
