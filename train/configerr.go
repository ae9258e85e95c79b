package train

import (
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// KeyError is a configuration value of the wrong type or out of range. It
// names the key (dotted for nested ones: methods.moco.queue_size) and says
// what is wanted; File and Line say where the value was read, Flag which
// command-line flag set it.
type KeyError struct {
	File string // YAML file, or ""
	Line int    // line in File, or 0
	Flag string // flag name without dashes, when a flag set the value
	Key  string
	Msg  string // the value and what is wanted: "0, want >= 1"
}

func (e *KeyError) Error() string {
	switch {
	case e.Flag != "":
		return fmt.Sprintf("flag --%s: %s", e.Flag, e.Msg)
	case e.File != "" && e.Line > 0:
		return fmt.Sprintf("config %s: line %d: %s: %s", e.File, e.Line, e.Key, e.Msg)
	case e.File != "":
		return fmt.Sprintf("config %s: %s: %s", e.File, e.Key, e.Msg)
	}
	return fmt.Sprintf("config: %s: %s", e.Key, e.Msg)
}

// FlagName is the command-line flag of a key: batch_size → batch-size,
// methods.moco.queue_size → moco-queue-size.
func FlagName(key string) string {
	key = strings.TrimPrefix(key, "methods.")
	return strings.NewReplacer("_", "-", ".", "-").Replace(key)
}

// keyOfFlag is FlagName's inverse for the method flags' prefixes
// ("moco-momentum" → methods.moco.momentum).
func keyOfFlag(flag string) string {
	for _, m := range []string{"moco", "instdisc", "pirl", "swav"} {
		if rest, ok := strings.CutPrefix(flag, m+"-"); ok {
			return "methods." + m + "." + strings.ReplaceAll(rest, "-", "_")
		}
	}
	return strings.ReplaceAll(flag, "-", "_")
}

var (
	reTypeErr    = regexp.MustCompile("^line ([0-9]+): cannot unmarshal !!([a-z]+) `(.*)` into (.+)$")
	reUnknownKey = regexp.MustCompile(`^line ([0-9]+): field (.+) not found in type (.+)$`)
)

// yamlError turns the decoder's error about file name into one that names
// the key, the line and the expected type: yaml.v3 says only "line 1:
// cannot unmarshal !!str `many` into int".
func yamlError(name string, src []byte, err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) || len(te.Errors) == 0 {
		return fmt.Errorf("config %s: %w", name, err)
	}
	var root yaml.Node
	_ = yaml.Unmarshal(src, &root)
	msg := te.Errors[0]
	if m := reTypeErr.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		key := keyAtLine(&root, line, false)
		if key == "" { // not a key's value: the document itself (found by FuzzParseConfig)
			return fmt.Errorf("config %s: line %d: %s is not %s (want keys such as \"method: simclr\")", name, line, quoteValue(m[3]), want(m[4]))
		}
		return &KeyError{File: name, Line: line, Key: key, Msg: fmt.Sprintf("%s is not %s", quoteValue(m[3]), want(m[4]))}
	}
	if m := reUnknownKey.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		key := keyAtLine(&root, line, true)
		if key == "" {
			key = m[2]
		}
		parent := key[:max(strings.LastIndexByte(key, '.'), 0)]
		return &KeyError{File: name, Line: line, Key: key, Msg: fmt.Sprintf("unknown key (known keys%s: %s)", inSection(parent), strings.Join(knownKeys(parent), ", "))}
	}
	return fmt.Errorf("config %s: %w", name, err)
}

func inSection(parent string) string {
	if parent == "" {
		return ""
	}
	return " in " + parent
}

func quoteValue(v string) string {
	if v == "" {
		return "an empty value"
	}
	return strconv.Quote(v)
}

// want names the Go type a value did not convert to.
func want(goType string) string {
	switch goType {
	case "int", "int64":
		return "an integer"
	case "uint64":
		return "a non-negative integer"
	case "float64", "float32":
		return "a number"
	case "bool":
		return "true or false"
	case "string":
		return "a string"
	}
	if strings.HasPrefix(goType, "map[") || strings.Contains(goType, ".") {
		return "a mapping of keys"
	}
	if strings.HasPrefix(goType, "[]") {
		return "a list"
	}
	return "a " + goType
}

// keyAtLine finds the dotted key whose value (or, with key true, whose
// name) is on line; "" when none is.
func keyAtLine(n *yaml.Node, line int, key bool) string {
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		return keyAtLine(n.Content[0], line, key)
	}
	if n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if key && k.Line == line {
			return k.Value
		}
		if !key && v.Line == line && v.Kind != yaml.MappingNode {
			return k.Value
		}
		if sub := keyAtLine(v, line, key); sub != "" {
			return k.Value + "." + sub
		}
	}
	return ""
}

// knownKeys lists the YAML keys of the section of Config named by a
// dotted path ("" for the top level, "methods.moco").
func knownKeys(path string) []string {
	t := reflect.TypeOf(Config{})
	if path != "" {
		for _, part := range strings.Split(path, ".") {
			f, ok := fieldByKey(t, part)
			if !ok || f.Type.Kind() != reflect.Struct {
				return nil
			}
			t = f.Type
		}
	}
	var out []string
	for i := range t.NumField() {
		if k := yamlKey(t.Field(i)); k != "" {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

func fieldByKey(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		if yamlKey(t.Field(i)) == key {
			return t.Field(i), true
		}
	}
	return reflect.StructField{}, false
}

func yamlKey(f reflect.StructField) string {
	k, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if k == "-" || !f.IsExported() {
		return ""
	}
	if k == "" {
		k = strings.ToLower(f.Name)
	}
	return k
}

// finite checks that a float setting is a finite number.
func finite(key string, v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return &KeyError{Key: key, Msg: fmt.Sprintf("%g, want a finite number", v)}
	}
	return nil
}

// methodError names the key of a method's validation error, which names
// the method's flag ("moco-momentum: 2, want 0 < m < 1").
func methodError(method string, err error) error {
	msg := err.Error()
	if flag, rest, ok := strings.Cut(msg, ": "); ok && !strings.ContainsAny(flag, " ") {
		key := keyOfFlag(flag)
		if strings.HasPrefix(key, "methods.") {
			return &KeyError{Key: key, Msg: rest}
		}
	}
	return &KeyError{Key: "methods." + method, Msg: msg}
}

// Locate returns err with the file and line of its key when err is a
// *KeyError of unknown origin and the YAML src (the file name) sets that
// key; otherwise err unchanged.
func Locate(err error, name string, src []byte) error {
	var ke *KeyError
	if !errors.As(err, &ke) || ke.File != "" || ke.Flag != "" {
		return err
	}
	var root yaml.Node
	if yaml.Unmarshal(src, &root) != nil {
		return err
	}
	line := lineOf(&root, ke.Key)
	if line == 0 {
		return err
	}
	loc := *ke
	loc.File, loc.Line = name, line
	return &loc
}

// LocateFile is Locate on the file at path.
func LocateFile(err error, path string) error {
	src, rerr := os.ReadFile(path)
	if rerr != nil {
		return err
	}
	return Locate(err, path, src)
}

// lineOf is the line of the dotted key's value in the YAML tree, or 0.
func lineOf(n *yaml.Node, key string) int {
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	head, rest, nested := strings.Cut(key, ".")
	if n.Kind != yaml.MappingNode {
		return 0
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value != head {
			continue
		}
		if nested {
			return lineOf(n.Content[i+1], rest)
		}
		return n.Content[i+1].Line
	}
	return 0
}
