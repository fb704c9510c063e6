package planner

import (
	"errors"
	"time"

	"github.com/posthub/posthub/internal/calendar"
)

// Resource is one bookable unit: a grading suite, a mixing stage, a colourist.
// Resources are individual because bookings name them; a pool of identical
// units (four identical edit bays) is several Resources of one Kind, which is
// also how a PSPLIB resource type of capacity c is represented.
type Resource struct {
	// ID identifies the resource in the Plan's assignments.
	ID string
	// Kind is what the resource is ("grade", "mix", "colourist"); a Demand
	// names the kind it needs.
	Kind string
	// Capabilities are the features a Demand may require on top of the
	// kind ("hdr", "atmos", "4k"); a resource satisfies a demand when it has
	// all the demanded capabilities.
	Capabilities []string
	// RateMinor is the hourly rate in minor currency units, used only to
	// report the Plan's Cost.
	RateMinor int64
	// Busy is the existing occupancy (confirmed bookings, first holds,
	// maintenance blocks) that planned stages must not overlap. It must be a
	// normalised Set, as every Set built by package calendar is.
	Busy calendar.Set
	// Pauses is time the resource is out of service (a person's leave, a
	// suite's maintenance day) that a stage holding it may span: the stage
	// pauses, so its working time does not count the pauses of any of its
	// resources, but it never starts or ends inside one. Normalised, like
	// Busy; a span in both is busy.
	Pauses calendar.Set
	// Site is where the resource is; a Stage with a Site uses only the
	// resources of that site. Empty for a one-site problem.
	Site string
}

// Demand asks for Count distinct resources of one kind with the given
// capabilities for the whole length of a stage, because a session needs, for
// example, a suite and a colourist at the same time.
type Demand struct {
	// Kind is the required resource kind; empty matches every kind, so a
	// demand can be expressed by capabilities alone.
	Kind string
	// Capabilities must all be present on a matching resource.
	Capabilities []string
	// Count is how many distinct resources are needed; 0 means 1, so that
	// the common single-resource demand needs no explicit count.
	Count int
}

// Link is a finish-to-start precedence: the stage holding the link may start
// only MinLag of working time after stage From ends, and, when MaxLag is
// positive, no later than MaxLag of working time after it ends (a mix must
// follow the conform within two working days, say). Lags are working time so
// that a weekend does not eat a drying or review period.
type Link struct {
	// From is the ID of the predecessor stage.
	From string
	// MinLag is the minimum working time between From's end and this
	// stage's start; it must not be negative.
	MinLag time.Duration
	// MaxLag, when positive, is the maximum working time between From's end
	// and this stage's start; 0 means no maximum.
	MaxLag time.Duration
	// Between stages at different sites both lags count the successor's
	// working time from the end of the transfer (Problem.Transfers).
}

// Stage is one piece of work to place, such as "grade reel 3". It occupies
// all its demanded resources from Start to End without interruption, so a
// 16-hour grade spans a night and its suite stays held over the night,
// because work in progress cannot be cleared from a suite overnight; and
// when one of its resources has a pause (the colourist's day of leave) inside
// that span, the stage pauses with it and ends that much working time later.
type Stage struct {
	// ID identifies the stage in links and in the Plan.
	ID string
	// Name is a human label; the engine does not use it.
	Name string
	// Duration is WORKING time: End is Calendar.AddWorkingHours(Start,
	// Duration), or Start+Duration when there is no calendar, pushed later by
	// the working time of its resources' Pauses inside [Start, End).
	Duration time.Duration
	// Demands are the resources needed simultaneously for the whole stage.
	Demands []Demand
	// Predecessors are the finish-to-start links into this stage.
	Predecessors []Link
	// Site, when set, is where the stage runs: only resources of that site
	// serve its demands, its working time is that of the site's calendar
	// (Problem.Sites; Problem.Calendar when the site has none there), and a
	// link from a stage at another site waits the transfer time between the
	// two (Problem.Transfers) before its minimum lag starts counting.
	Site string
}

// Problem is everything Solve needs: the work, the resources, and the time
// frame. It is not modified by Solve.
type Problem struct {
	// Stages to schedule; their IDs must be unique and their links acyclic.
	Stages []Stage
	// Resources that demands may use; IDs must be unique.
	Resources []Resource
	// Calendar is the site's working calendar. Nil means continuous time
	// in which every instant is working time, as in PSPLIB instances.
	Calendar *calendar.Calendar
	// Release is the earliest start of any stage; it is required because
	// every plan is anchored at it.
	Release time.Time
	// Deadline, when not zero, is the date the project should be finished
	// by; the Plan reports how late it is.
	Deadline time.Time
	// Options tunes how the calendar treats uncertain days; the planner
	// normally avoids provisional holidays.
	Options calendar.Options
	// Sites are the working calendars of the sites stages name (Stage.Site),
	// for a plan over several sites; a stage without a site, or at a site
	// not listed, follows Calendar.
	Sites map[string]*calendar.Calendar
	// Transfers is the clock time needed to move a project's material
	// between two sites (a data transfer, a shipment), in either direction:
	// a stage may start no sooner than Transfers[{From, To}] (or {To, From})
	// after a predecessor at another site ends. Clock time, not working
	// time, because a transfer runs through nights and weekends. A pair
	// not listed needs none.
	Transfers map[SitePair]time.Duration
}

// SitePair names two sites for a transfer time; the order does not matter.
type SitePair struct{ From, To string }

// transfer returns the transfer time from site a to site b: zero at one site
// or when either is unnamed.
func (p *Problem) transfer(a, b string) time.Duration {
	if a == b || a == "" || b == "" {
		return 0
	}
	if d, ok := p.Transfers[SitePair{a, b}]; ok {
		return d
	}
	return p.Transfers[SitePair{b, a}]
}

// stageCalendar is the calendar a stage's working time follows.
func (p *Problem) stageCalendar(st *Stage) *calendar.Calendar {
	if c, ok := p.Sites[st.Site]; ok && st.Site != "" && c != nil {
		return c
	}
	return p.Calendar
}

// Budget bounds the search so that Solve is anytime: it stops at whichever
// limit is reached first and returns the best plan found so far.
type Budget struct {
	// Schedules is the number of schedules to generate, counting every
	// decode of an activity list by the serial schedule generation scheme
	// (forward or backward) as one, as the RCPSP literature does. Zero
	// means no limit on schedules when WallTime is set, and
	// DefaultSchedules when neither is set.
	Schedules int
	// WallTime is the maximum time to spend; zero means no time limit.
	// A plan cut by wall time depends on machine speed and is therefore
	// not reproducible; use Schedules for reproducible results.
	WallTime time.Duration
}

// DefaultSchedules is the budget used when Options.Budget is empty: enough
// for near-optimal plans on projects of a few dozen stages, and a few tens of
// milliseconds of work.
const DefaultSchedules = 5000

// Options controls a Solve call.
type Options struct {
	// Seed selects the pseudo-random sequence of the search; the same
	// Problem, Seed and schedule Budget always give the same Plan.
	Seed uint64
	// Budget bounds the search.
	Budget Budget
}

// Assignment places one stage: when it runs and on which resources.
type Assignment struct {
	// StageID is the ID of the placed stage.
	StageID string
	// Start is a working instant at or after the Problem's Release.
	Start time.Time
	// End is Start plus the stage's Duration of working time, not counting
	// the Pauses of the assigned resources; the resources are held over
	// [Start, End).
	End time.Time
	// ResourceIDs are the distinct resources held, grouped in the order of
	// the stage's Demands (Count of them for each demand).
	ResourceIDs []string
}

// Plan is the result of Solve.
type Plan struct {
	// Assignments has one entry per stage, in the order of Problem.Stages,
	// when Feasible; it is empty otherwise.
	Assignments []Assignment
	// Finish is the latest End, or the Release if there are no stages.
	Finish time.Time
	// Makespan is Finish minus the Problem's Release (wall-clock time).
	Makespan time.Duration
	// Lateness is how far Finish is after the Deadline, or 0 when the
	// deadline is met or there is none.
	Lateness time.Duration
	// Feasible reports whether every stage could be placed: all demands
	// can be met by existing resources and every maximum lag was honoured.
	Feasible bool
	// Unmet explains, one line per problem, why the plan is not feasible
	// (for example which stage has a demand no resource can satisfy), so a
	// manager can fix the data.
	Unmet []string
	// Schedules is how many schedules the search generated.
	Schedules int
	// Cost is the sum over assignments and their resources of RateMinor ×
	// the resource's working hours in [Start, End) less its own Pauses,
	// rounded to the nearest minor unit.
	Cost int64
}

// ErrInvalidProblem is wrapped by every error Solve returns for malformed
// input (duplicate IDs, unknown or cyclic links, negative durations, ...), so
// an API can answer 422 rather than 500.
var ErrInvalidProblem = errors.New("planner: invalid problem")
