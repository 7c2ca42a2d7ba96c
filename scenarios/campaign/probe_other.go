//go:build !unix

package campaign

import (
	"fmt"
	"os"
)

// probe creates and removes a file in dir, the one sure test that dir takes new files.
func probe(dir string) error {
	f, err := os.CreateTemp(dir, ".replica-probe-*")
	if err != nil {
		return fmt.Errorf("cannot create files in %s: %v", dir, pathError(err))
	}
	f.Close()
	return os.Remove(f.Name())
}
