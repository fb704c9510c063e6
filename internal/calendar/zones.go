package calendar

// ZoneNames lists every zone of the embedded tz database, sorted: the names
// LoadLocation accepts (besides "UTC"), for forms that offer a choice of zone.
func ZoneNames() []string {
	names, err := zoneNames()
	if err != nil {
		return nil
	}
	return names
}
