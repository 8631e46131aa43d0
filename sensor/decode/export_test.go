package decode

// LinkCounts returns the internal link counters (which Counters.Each does
// not report) by field name, for the external tests.
func LinkCounts(c *Counters) map[string]uint64 {
	l := &c.link
	return map[string]uint64{
		"radiotap":       l.radiotap,
		"wlanData":       l.wlanData,
		"wlanMgmt":       l.wlanMgmt,
		"wlanCtrl":       l.wlanCtrl,
		"wlanNoData":     l.wlanNoData,
		"wlanProtected":  l.wlanProtected,
		"wlanFragment":   l.wlanFragment,
		"wlanAMSDU":      l.wlanAMSDU,
		"wlanNonSNAP":    l.wlanNonSNAP,
		"wlanUnknown":    l.wlanUnknown,
		"nflog":          l.nflog,
		"nflogNoPayload": l.nflogNoPayload,
		"gtp":            l.gtp,
	}
}
