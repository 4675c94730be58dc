package check

import (
	"fmt"
	"io/fs"
	"os/user"
	"strconv"
	"syscall"
)

// Identity is the wazuh user and group that wazuh-integratord runs the
// programs as. UID or GID is -1 when that user or group does not exist here.
type Identity struct {
	UID int
	GID int
}

// Known reports whether both the user and the group were found.
func (id Identity) Known() bool { return id.UID >= 0 && id.GID >= 0 }

// LookupWazuh finds the wazuh user and group of this host.
func LookupWazuh() Identity {
	id := Identity{UID: -1, GID: -1}
	if u, err := user.Lookup("wazuh"); err == nil {
		if uid, err := strconv.Atoi(u.Uid); err == nil {
			id.UID = uid
		}
	}
	if g, err := user.LookupGroup("wazuh"); err == nil {
		if gid, err := strconv.Atoi(g.Gid); err == nil {
			id.GID = gid
		}
	}
	return id
}

// Permission bits for can, as in the owner triplet of a mode.
const (
	permRead  fs.FileMode = 0o4
	permWrite fs.FileMode = 0o2
	permExec  fs.FileMode = 0o1
)

// can reports whether the wazuh user may access a file with every bit of
// want. It reads the mode bits the way the kernel does for a process that is
// not root: the owner bits when wazuh owns the file, else the group bits when
// the file's group is wazuh, else the other bits.
//
// NOTE: supplementary groups of the wazuh user and ACLs are not looked at;
// a stock install uses neither for these files.
func (id Identity) can(info fs.FileInfo, want fs.FileMode) bool {
	uid, gid, ok := owner(info)
	if !ok {
		return true
	}
	mode := info.Mode().Perm()
	var bits fs.FileMode
	switch {
	case id.UID >= 0 && uid == id.UID:
		bits = mode >> 6
	case id.GID >= 0 && gid == id.GID:
		bits = mode >> 3
	default:
		bits = mode
	}
	return bits&want == want
}

// owner returns the numeric owner and group of a file.
func owner(info fs.FileInfo) (uid, gid int, ok bool) {
	stat, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return int(stat.Uid), int(stat.Gid), true
}

// ownerName formats the owner of a file as "user:group", with numbers for
// ids that have no name here.
func ownerName(info fs.FileInfo) string {
	uid, gid, ok := owner(info)
	if !ok {
		return "unknown owner"
	}
	userName := strconv.Itoa(uid)
	if u, err := user.LookupId(userName); err == nil {
		userName = u.Username
	}
	groupName := strconv.Itoa(gid)
	if g, err := user.LookupGroupId(groupName); err == nil {
		groupName = g.Name
	}
	return userName + ":" + groupName
}

// describeFile formats owner and mode, as "root:wazuh 0640".
func describeFile(info fs.FileInfo) string {
	return fmt.Sprintf("%s %04o", ownerName(info), info.Mode().Perm())
}
