package booking

import (
	_ "embed"
	"encoding/json"
	"time"
)

// SiteTransfer is how long a production's material takes to travel between two sites
// (site_transfers.json): clock time, because a transfer runs through nights.
type SiteTransfer struct {
	From  string  `json:"from"` // site slugs
	To    string  `json:"to"`
	Hours float64 `json:"hours"`
	Kind  string  `json:"kind"` // data, shipping
	Basis string  `json:"basis"`
}

// Duration is the transfer's clock time.
func (t SiteTransfer) Duration() time.Duration { return time.Duration(t.Hours * float64(time.Hour)) }

//go:embed site_transfers.json
var siteTransfersJSON []byte

var siteTransfers = func() (out struct {
	DefaultHours float64 `json:"default_hours"`
	DefaultBasis string  `json:"default_basis"`
	Transfers    []struct {
		Between []string `json:"between"`
		Hours   float64  `json:"hours"`
		Kind    string   `json:"kind"`
		Basis   string   `json:"basis"`
	} `json:"transfers"`
}) {
	if err := json.Unmarshal(siteTransfersJSON, &out); err != nil {
		panic("booking: site_transfers.json: " + err.Error())
	}
	for _, t := range out.Transfers {
		if len(t.Between) != 2 || t.Hours < 0 || t.Basis == "" {
			panic("booking: site_transfers.json: each transfer names two sites, hours >= 0 and a basis")
		}
	}
	return out
}()

// TransferBetween returns the transfer between two sites by their slugs, in either
// direction: the pair's own entry, or the default for a pair not listed; none at one
// site.
func TransferBetween(from, to string) SiteTransfer {
	if from == to {
		return SiteTransfer{From: from, To: to, Kind: "none"}
	}
	for _, t := range siteTransfers.Transfers {
		if (t.Between[0] == from && t.Between[1] == to) || (t.Between[0] == to && t.Between[1] == from) {
			return SiteTransfer{From: from, To: to, Hours: t.Hours, Kind: t.Kind, Basis: t.Basis}
		}
	}
	return SiteTransfer{From: from, To: to, Hours: siteTransfers.DefaultHours, Kind: "shipping", Basis: siteTransfers.DefaultBasis}
}
