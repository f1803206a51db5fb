package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"time"
)

// flagSet is a flag.FlagSet whose flags may take their defaults from
// SSOATTR_* environment variables. A variable that does not parse is an
// error naming it, unless the flag itself is given on the command line.
type flagSet struct {
	*flag.FlagSet
	getenv  func(string) string
	envVar  map[string]string // flag name -> the variable its default came from
	envErrs map[string]error  // flag name -> why its variable did not parse
}

func newFlagSet(name string, getenv func(string) string) *flagSet {
	return &flagSet{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError), getenv: getenv,
		envVar: map[string]string{}, envErrs: map[string]error{}}
}

// fromEnv sets the default of flag name from variable, if it is set; what
// is wanted names the flag's type for the error.
func (f *flagSet) fromEnv(name, variable, wanted string) {
	v := f.getenv(variable)
	if v == "" {
		return
	}
	fl := f.Lookup(name)
	if err := fl.Value.Set(v); err != nil {
		f.envErrs[name] = fmt.Errorf("%s=%q (the default of --%s) is not %s", variable, v, name, wanted)
		return
	}
	fl.DefValue = fl.Value.String()
	f.envVar[name] = variable
}

func withVar(usage, variable string) string { return usage + " (" + variable + ")" }

// StringEnv defines a string flag whose default is variable's value, if set.
func (f *flagSet) StringEnv(p *string, name, variable, def, usage string) {
	f.StringVar(p, name, def, withVar(usage, variable))
	f.fromEnv(name, variable, "a string")
}

// IntEnv defines an int flag whose default is variable's value, if set.
func (f *flagSet) IntEnv(p *int, name, variable string, def int, usage string) {
	f.IntVar(p, name, def, withVar(usage, variable))
	f.fromEnv(name, variable, "a whole number")
}

// DurationEnv defines a duration flag whose default is variable's value, if set.
func (f *flagSet) DurationEnv(p *time.Duration, name, variable string, def time.Duration, usage string) {
	f.DurationVar(p, name, def, withVar(usage, variable))
	f.fromEnv(name, variable, "a duration such as 90s, 10m or 1h30m")
}

// BoolEnv defines a bool flag whose default is variable's value, if set.
func (f *flagSet) BoolEnv(p *bool, name, variable string, def bool, usage string) {
	f.BoolVar(p, name, def, withVar(usage, variable))
	f.fromEnv(name, variable, "true or false")
}

// source names where flag name's value came from, for an error about it:
// the flag, or the variable that gave its default.
func (f *flagSet) source(name string) string {
	if v, ok := f.envVar[name]; ok && !f.given(name) {
		return v + " (the default of --" + name + ")"
	}
	return "--" + name
}

func (f *flagSet) given(name string) bool {
	given := false
	f.Visit(func(fl *flag.Flag) { given = given || fl.Name == name })
	return given
}

// parse parses args; see parseFlags. Then it reports every environment
// variable that did not parse and was not overridden by its flag.
func (f *flagSet) parse(args []string, stdout, stderr io.Writer) error {
	if err := parseFlags(f.FlagSet, args, stdout, stderr); err != nil {
		return err
	}
	var errs []error
	names := make([]string, 0, len(f.envErrs))
	for name := range f.envErrs {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if !f.given(name) {
			errs = append(errs, f.envErrs[name])
		}
	}
	return errors.Join(errs...)
}

// parseFlags parses args with fs. The usage asked for with -h or --help
// goes to stdout and the result is flag.ErrHelp (exit status 0); a mistake
// goes to stderr, with the usage. Afterwards fs writes to stderr, so that a
// usage shown for a later error goes there too.
func parseFlags(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) error {
	var buf bytes.Buffer
	fs.SetOutput(&buf)
	err := fs.Parse(args)
	fs.SetOutput(stderr)
	w := stderr
	if errors.Is(err, flag.ErrHelp) {
		w = stdout
	}
	_, _ = w.Write(buf.Bytes())
	return err
}
