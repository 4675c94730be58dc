package check

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// maxReadSize bounds each file that check reads: ossec.conf, rules files and
// the template. It is far above the size of any such file, and keeps a
// wrong or damaged file from filling memory.
const maxReadSize = 64 << 20

// skippedError is a file that readRegular did not read, because it is not
// a regular file or is larger than maxReadSize.
type skippedError struct {
	Path string
	// Reason completes a sentence that starts with the path, as in
	// "is a FIFO".
	Reason string
}

func (e *skippedError) Error() string { return e.Path + " " + e.Reason }

// readRegular returns the content of path, which must be a regular file of
// at most maxReadSize bytes. It calls stat(2) before open(2), because
// opening a FIFO for reading blocks until a writer appears, and no signal
// ends a blocked open. The open itself is non-blocking in case the file is
// replaced by a FIFO between the two calls. A file it does not read is
// returned as a *skippedError, other errors as the file system returns them.
func readRegular(path string) ([]byte, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if err := readable(path, info); err != nil {
		return nil, err
	}

	file, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	opened, err := file.Stat()
	if err != nil {
		return nil, err
	}
	if err := readable(path, opened); err != nil {
		return nil, err
	}

	data, err := io.ReadAll(io.LimitReader(file, maxReadSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxReadSize {
		return nil, &skippedError{Path: path, Reason: fmt.Sprintf("grew past the %d bytes check reads", maxReadSize)}
	}
	return data, nil
}

// readable returns a *skippedError unless info describes a regular file
// within maxReadSize.
func readable(path string, info fs.FileInfo) error {
	if !info.Mode().IsRegular() {
		return &skippedError{Path: path, Reason: "is " + describeType(info.Mode()) + ", not a regular file"}
	}
	if info.Size() > maxReadSize {
		return &skippedError{Path: path, Reason: fmt.Sprintf("has %d bytes, more than the %d check reads", info.Size(), maxReadSize)}
	}
	return nil
}

// describeType names the kind of file a mode describes.
func describeType(mode fs.FileMode) string {
	switch {
	case mode&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case mode&fs.ModeSocket != 0:
		return "a socket"
	case mode&fs.ModeCharDevice != 0:
		return "a character device"
	case mode&fs.ModeDevice != 0:
		return "a block device"
	case mode.IsDir():
		return "a directory"
	case mode.IsRegular():
		return "a regular file"
	}
	return "an unknown type of file"
}

// linkProblem describes err when it comes from a broken symbolic link at
// path: "is a symbolic link loop (ELOOP)" or "is a symbolic link to a
// missing file". It returns "" for any other error, such as a permission
// error, which has other fixes.
func linkProblem(path string, err error) string {
	if errors.Is(err, syscall.ELOOP) {
		return "is a symbolic link loop (ELOOP)"
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return ""
	}
	if info, lerr := os.Lstat(path); lerr == nil && info.Mode()&fs.ModeSymlink != 0 {
		return "is a symbolic link to a missing file"
	}
	return ""
}
