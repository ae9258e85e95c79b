// Package version reports the program's version from the build
// information the Go toolchain embeds (runtime/debug.ReadBuildInfo): the
// module version for `go install …@vX.Y.Z` builds, "(devel)" plus the VCS
// revision, time and a "+dirty" mark for builds from a checkout. It does
// not depend on the module path.
package version

import (
	"runtime/debug"
	"strings"
)

// Info is what the build information says about this binary.
type Info struct {
	Module   string // module path of the main package
	Version  string // module version: "v1.2.3", "(devel)" or "unknown"
	Revision string // VCS revision, "" when unknown
	Time     string // VCS commit time (RFC 3339), "" when unknown
	Modified bool   // built from a checkout with uncommitted changes
	Go       string // Go toolchain version
}

// Read returns the running binary's build information.
func Read() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Info{Version: "unknown"}
	}
	return fromBuildInfo(bi)
}

func fromBuildInfo(bi *debug.BuildInfo) Info {
	in := Info{Module: bi.Main.Path, Version: bi.Main.Version, Go: bi.GoVersion}
	if in.Version == "" {
		in.Version = "unknown"
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			in.Revision = s.Value
		case "vcs.time":
			in.Time = s.Value
		case "vcs.modified":
			in.Modified = s.Value == "true"
		}
	}
	return in
}

// String is the version in one word: "v1.2.3", or for a development
// build "(devel)-REV12CHARS[+dirty]" when the revision is known.
func (in Info) String() string {
	v := in.Version
	if in.Revision != "" && (v == "(devel)" || v == "unknown" || strings.Contains(v, "-0.")) {
		rev := in.Revision[:min(12, len(in.Revision))]
		if !strings.Contains(v, rev) {
			v += "-" + rev
		}
		if in.Modified {
			v += "+dirty"
		}
	}
	return v
}

// String is Read().String(): the running program's version.
func String() string { return Read().String() }
