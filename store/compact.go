package store

import (
	"errors"
	"fmt"
	"os"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// compactTxBytes is how much Compact copies per transaction.
const compactTxBytes = 32 << 20

// Compact copies the database at src into the new file dst, packing pages
// full and leaving out free space (for `honeyapi db compact`). src is opened
// read-only, so it fails with ErrLocked while a server holds the file. dst
// must not exist; it is fsynced before Compact returns and removed on
// failure. The caller then renames dst over src (and fsyncs the directory).
func Compact(src, dst string) (err error) {
	if _, err := os.Stat(dst); err == nil {
		return fmt.Errorf("store: compact: %s already exists", dst)
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("store: compact: %w", err)
	}
	if _, err := os.Stat(src); err != nil {
		return fmt.Errorf("store: compact: %w", err)
	}
	sdb, err := bolt.Open(src, 0o600, &bolt.Options{ReadOnly: true, Timeout: DefaultOpenTimeout})
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return fmt.Errorf("%w: %s", ErrLocked, src)
		}
		return fmt.Errorf("store: compact: unable to open %s: %w", src, err)
	}
	defer sdb.Close()
	ddb, err := bolt.Open(dst, 0o600, &bolt.Options{
		Timeout:        DefaultOpenTimeout,
		NoSync:         true, // one fsync at the end instead of one per transaction
		NoFreelistSync: true,
		FreelistType:   bolt.FreelistMapType,
	})
	if err != nil {
		return fmt.Errorf("store: compact: unable to create %s: %w", dst, err)
	}
	defer func() {
		if cerr := ddb.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("store: compact: %w", cerr)
		}
		if err != nil {
			os.Remove(dst)
		}
	}()
	if err := bolt.Compact(ddb, sdb, compactTxBytes); err != nil {
		return fmt.Errorf("store: compact %s into %s: %w", src, dst, err)
	}
	if err := ddb.Sync(); err != nil {
		return fmt.Errorf("store: compact: sync %s: %w", dst, err)
	}
	return nil
}
