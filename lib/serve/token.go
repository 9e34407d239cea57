package serve

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/tetra-toolkit/tpm/lib/exit"
	"github.com/tetra-toolkit/tpm/lib/state"
)

// The token: 32 random bytes in hex, in $TETRA_DIR/tpm/serve.token (0600,
// in the tree's 0700 folder, so only the user, and root, can read it). It
// is created on first use, whole: written to a temporary file, then linked
// to its name, so that two tpm-serve starting at once agree on one token
// and neither ever reads half of one. It is read (without following a
// link, as every file of the tree) at each request: replacing it revokes
// the old one.

// TokenFile is the token's name in the tree.
const TokenFile = "serve.token"

// maxToken bounds the token file as read back.
const maxToken = 4 << 10

// TokenPath is the token file of t.
func TokenPath(t *state.Tree) string { return filepath.Join(t.Root, TokenFile) }

// ReadToken reads the token of t.
func ReadToken(t *state.Tree) (string, error) {
	p := TokenPath(t)
	b, err := state.ReadFile(p, maxToken)
	if err != nil {
		code := exit.Failure
		switch {
		case errors.Is(err, fs.ErrNotExist):
			code = exit.NoInput
		case errors.Is(err, fs.ErrPermission):
			code = exit.NoPerm
		case errors.Is(err, state.ErrNotRegular), errors.Is(err, state.ErrTooLarge):
			code = exit.DataErr
		}
		return "", exit.With(code, err)
	}
	tok := strings.TrimSuffix(string(b), "\n")
	if !validToken(tok) {
		return "", exit.Errorf(exit.DataErr, "%s: not a token (want 32 to 256 letters, digits, - or _); remove it to have a new one made", p)
	}
	return tok, nil
}

// validToken: long enough to be unguessable, and only characters that
// travel in a header unquoted.
func validToken(s string) bool {
	if len(s) < 32 || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

var tempSeq atomic.Uint64

func newToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// EnsureToken returns the token of t, making it first when there is none.
// The tree must exist (t.Ensure).
func EnsureToken(t *state.Tree) (string, error) {
	tok, err := ReadToken(t)
	if !errors.Is(err, fs.ErrNotExist) {
		return tok, err
	}
	tok, err = newToken()
	if err != nil {
		return "", exit.Errorf(exit.Failure, "make a token: %v", err)
	}
	p := TokenPath(t)
	tmp := filepath.Join(t.Root, state.TempPrefix+TokenFile+state.TempMarker+strconv.Itoa(os.Getpid())+"-"+strconv.FormatUint(tempSeq.Add(1), 10))
	if err := state.WriteFile(tmp, []byte(tok+"\n")); err != nil {
		return "", err
	}
	defer os.Remove(tmp)
	// link(2) never replaces: of two servers starting at once, one makes
	// the file and the other reads it.
	if err := os.Link(tmp, p); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return ReadToken(t)
		}
		return "", exit.With(exit.CantCreate, fmt.Errorf("create %s: %w", p, err))
	}
	if err := syncDir(t.Root); err != nil {
		return "", exit.With(exit.CantCreate, fmt.Errorf("create %s: %w", p, err))
	}
	return tok, nil
}

// RotateToken replaces the token of t with a new one, atomically: running
// servers refuse the old one from their next request on.
func RotateToken(t *state.Tree) (string, error) {
	tok, err := newToken()
	if err != nil {
		return "", exit.Errorf(exit.Failure, "make a token: %v", err)
	}
	if err := state.WriteFile(TokenPath(t), []byte(tok+"\n")); err != nil {
		return "", err
	}
	return tok, nil
}

func syncDir(dir string) error {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return unix.Fsync(fd)
}
