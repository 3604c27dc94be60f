// Command palisade is the Palisade command line. All behaviour lives in
// internal/cli; this file only wires the composition root to it.
package main

import (
	"os"

	"github.com/palisade-sec/palisade/internal/app"
	"github.com/palisade-sec/palisade/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args, app.New()))
}
