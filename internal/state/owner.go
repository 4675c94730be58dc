package state

import (
	"os"
	"path/filepath"
	"syscall"
)

// An administrator who runs a program by hand as root, to test it, would
// otherwise leave root-owned state files that the wazuh user, which
// integratord runs the programs as, can no longer open. So when running as
// root, every file and directory created here gets the owner and group of
// the state directory it is created in.

// MkdirAll creates dir and its missing parents with mode 0750. As root, each
// directory it creates gets the owner of its existing parent.
func MkdirAll(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	parent := filepath.Dir(dir)
	if parent != dir {
		if err := MkdirAll(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o750); err != nil && !os.IsExist(err) {
		return err
	}
	inheritOwner(dir)
	return nil
}

// inheritOwner gives path the owner and group of its directory when this
// process runs as root. Failures are ignored: the file stays usable by
// root, and the next write by the wazuh user replaces it.
func inheritOwner(path string) {
	if os.Geteuid() != 0 {
		return
	}
	info, err := os.Stat(filepath.Dir(path))
	if err != nil {
		return
	}
	owner, ok := info.Sys().(*syscall.Stat_t)
	if !ok || owner.Uid == 0 && owner.Gid == 0 {
		return
	}
	_ = os.Lchown(path, int(owner.Uid), int(owner.Gid))
}

// InheritOwner is inheritOwner for files created outside this package, such
// as append-only side files.
func InheritOwner(path string) { inheritOwner(path) }
