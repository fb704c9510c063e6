// Package planner builds schedules for a post-production hub: it decides when
// each stage of a film's finishing (grading, mixing, mastering, ...) runs and
// on which resources, so that the project meets its deadline and finishes as
// early as the suites, people and working calendar allow.
//
// The package is a pure engine. It knows nothing of the database: callers load
// the stages, the resources and their existing occupancy, build a Problem and
// call Solve. Keeping it pure lets the same code be measured on the standard
// PSPLIB benchmark (see ReadSM and RCPSP.Problem) and tested without
// PostgreSQL.
//
// # Model
//
// The model is the resource-constrained project scheduling problem (RCPSP)
// generalised to named resources with kinds and capabilities, existing busy
// time, a working calendar and finish-to-start links with minimum and
// maximum lags in working time. A stage holds all its resources from Start to
// End = Calendar.AddWorkingHours(Start, Duration), nights included, and
// pauses over the leave or maintenance of any of its resources (Resource.Pauses)
// that fall strictly inside that span, ending later by their working time. A PSPLIB
// resource type of capacity c is simply c interchangeable unit resources of
// one kind, so the classic problem is a special case solved by the same
// engine.
//
// A plan may span sites (Stage.Site, Resource.Site): a stage then uses only
// its site's resources and counts working time by its site's calendar
// (Problem.Sites), and a link between stages at two sites waits the transfer
// time between them (Problem.Transfers, clock time) before its lags count.
// Each stage gets the time map of its own calendar on the one axis.
//
// The objective is lexicographic: meet the deadline, then finish as early as
// possible (both amount to the earliest finish, since lateness only grows
// with it), then spread the load, which the engine does when it chooses among
// equivalent resources for a fixed schedule.
//
// # Search
//
// Schedules are built by the serial schedule generation scheme (SSGS) from
// activity lists. Every list is decoded and then justified by
// forward-backward improvement (Valls et al.), and the lists evolve in a
// steady-state genetic algorithm (after Hartmann) seeded by priority rules
// with regret-based biased random sampling, using two-point crossover and a
// time-window crossover that transplants the father's densest stretch (peak
// crossover), and restarting around the best schedule when it stalls. When
// schedules may be moved in time as a whole (no calendar, busy time, pauses
// or maximum lags: PSPLIB), a list is judged by its right-justified schedule
// (two decodes) and the left-justifying decode is left to its children.
// Every decode, forward or backward, counts as one schedule against the
// Budget.
//
// The SSGS runs on an integer time axis. Two resource models share it: pools
// of identical units counted on a per-tick array, which is what PSPLIB and
// other problems without a calendar or individual differences get, and
// per-resource interval lists with bipartite matching of demands to
// resources, which handles capabilities, individual bookings and calendars.
//
// # Measured quality
//
// With `posthub bench psplib --set DIR --schedules 5000` (seeds 1, 2 and 3;
// AMD EPYC, 2 vCPUs shared with other work), 5,000 schedules per instance
// (docs/BENCHMARKS.md has the details):
//
//	J30  (480):  0.039 / 0.046 / 0.038 % above the optimum
//	J60  (480): 11.11 / 11.14 / 11.06 % above the critical-path bound
//	J120 (600): 32.64 / 32.61 / 32.78 % above the critical-path bound,
//	            about 0.1 s per instance on one core
//
// For comparison, published J120 figures at this budget run from about 43 %
// (priority rules) to 32.54 % (Valls et al.'s hybrid GA, 2008) and 32.18 %
// (Debels & Vanhoucke's decomposition-based GA, 2007).
package planner
