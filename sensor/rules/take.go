package rules

// TakeRules returns the set's rules and empties the set, so that a caller
// that compiles them one by one can let each syntax tree be collected as
// soon as it is done with it (a large ruleset's trees are most of the
// memory loading it takes).
func (s *Set) TakeRules() []*Rule {
	rs := s.Rules
	s.Rules, s.index = nil, nil
	return rs
}
