package catalogue

import (
	"fmt"
	"io"
	"strings"
)

// Op is what a change does.
type Op string

// The changes Apply makes.
const (
	Create     Op = "create"     // +
	Update     Op = "update"     // ~
	Deactivate Op = "deactivate" // - taken out of service
	Remove     Op = "remove"     // - a holiday, a period or a rate card, which bookings do not refer to
)

var opSigns = map[Op]string{Create: "+", Update: "~", Deactivate: "-", Remove: "-"}

// Change is one change Apply made (or, dry, would make).
type Change struct {
	Op Op
	// What is the kind of object: organisation, site, policy, week, period, holiday,
	// resource, rate card, user.
	What string
	// Name names the object: a slug, an email, site/resource, a date and name.
	Name string
	// Detail says what a created object is, or why it goes.
	Detail string
	// Fields are an update's changed fields, in the file's words.
	Fields []Field
}

// Field is one changed field: its name and its values before and after, as written
// in the diff.
type Field struct {
	Name, Before, After string
}

// Diff is what Apply changed, in the order it changed it, and what it left alone
// that the file does not name (Kept).
type Diff struct {
	Changes []Change
	// Kept are objects in the database the file leaves out, left as they are.
	Kept []string
	// NewUsers are the emails of the users created: they have no password yet.
	NewUsers []string
}

// Empty reports whether the database already matched the file.
func (d *Diff) Empty() bool { return len(d.Changes) == 0 }

// Count counts the changes of an op.
func (d *Diff) Count(op Op) int {
	n := 0
	for _, c := range d.Changes {
		if c.Op == op {
			n++
		}
	}
	return n
}

func (c Change) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s", opSigns[c.Op], c.What, c.Name)
	switch {
	case len(c.Fields) > 0:
		b.WriteString(": ")
		for i, f := range c.Fields {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s %s → %s", f.Name, f.Before, f.After)
		}
	case c.Detail != "":
		fmt.Fprintf(&b, " (%s)", c.Detail)
	}
	return b.String()
}

// Write prints the diff, one line a change, then what was left alone, then a
// summary; dry says nothing was written.
func (d *Diff) Write(w io.Writer, dry bool) error {
	var b strings.Builder
	for _, c := range d.Changes {
		b.WriteString(c.String())
		b.WriteByte('\n')
	}
	for _, k := range d.Kept {
		fmt.Fprintf(&b, "= %s\n", k)
	}
	if len(d.NewUsers) > 0 {
		fmt.Fprintf(&b, "new users have no password: invite them from the admin pages (/admin/users) or give them a token (posthub token create): %s\n",
			strings.Join(d.NewUsers, ", "))
	}
	summary := fmt.Sprintf("%d created, %d updated, %d taken out of service, %d removed",
		d.Count(Create), d.Count(Update), d.Count(Deactivate), d.Count(Remove))
	switch {
	case d.Empty() && dry:
		b.WriteString("no changes: the database matches the file (dry run: nothing written)\n")
	case d.Empty():
		b.WriteString("no changes: the database matches the file\n")
	case dry:
		fmt.Fprintf(&b, "dry run: would make %s; nothing written\n", summary)
	default:
		fmt.Fprintf(&b, "applied: %s\n", summary)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
