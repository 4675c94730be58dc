package check

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"syscall"
)

// checkQueue checks that analysisd's queue socket exists and accepts a
// datagram connection. Nothing is sent.
func checkQueue(e *env) Result {
	const name = "queue socket"
	if e.cfg == nil && e.configUnread {
		return warn(name, "not tried, because the config could not be read, so wazuh.queue_socket is unknown",
			fmt.Sprintf("run check as root or as the wazuh user (sudo -u wazuh %s check)", e.Executable))
	}
	path := e.paths().Wazuh.QueueSocket

	info, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fail(name, path+" not found (ENOENT): wazuh-analysisd is not running, or the path is wrong",
			"start wazuh-manager, or fix wazuh.home or wazuh.queue_socket")
	case errors.Is(err, fs.ErrPermission):
		return e.unreachable(name, path, "restart wazuh-manager, which creates queue/sockets as a directory the wazuh user may search")
	case err != nil:
		return fail(name, oneLine(err.Error()), "fix wazuh.queue_socket")
	case info.Mode().Type() != fs.ModeSocket:
		return fail(name, path+" is not a socket", "fix wazuh.queue_socket: it must be analysisd's queue/sockets/queue")
	}
	if e.Root && e.Wazuh.Known() && !e.Wazuh.can(info, permWrite) {
		return fail(name, fmt.Sprintf("the wazuh user cannot write %s (%s)", path, describeFile(info)),
			"restart wazuh-manager, which creates it as wazuh:wazuh 0660")
	}

	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return fail(name, path+" refused the connection (ECONNREFUSED): the file is left from an earlier run and wazuh-analysisd is not running",
			"start wazuh-manager")
	case errors.Is(err, syscall.EACCES):
		return e.denied(name, fmt.Sprintf("%s cannot connect to %s (permission denied, %s)", e.user(), path, describeFile(info)),
			"restart wazuh-manager, which creates the socket as wazuh:wazuh 0660")
	case errors.Is(err, syscall.EPROTOTYPE):
		return fail(name, path+" is not a datagram socket (EPROTOTYPE)", "fix wazuh.queue_socket: it must be analysisd's queue/sockets/queue")
	case err != nil:
		return fail(name, oneLine(err.Error()), "start wazuh-manager")
	}
	conn.Close()
	return ok(name, "%s accepts datagrams", path)
}
