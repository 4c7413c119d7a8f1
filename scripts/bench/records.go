package main

// recordCases are the cases of the audit log, the export and usage.
func (b *bench) recordCases(n int) []request {
	admin := func(int) string { return b.admin }
	// The export's user has a history of its own (its creation), not the
	// thousands of events the other cases give the target.
	fx := &userFixtures{b: b}
	exported := func(int) string { return fx.get("export", 0, nil) }
	var usedBy string
	return []request{
		{route: "list-audit-events", token: admin, query: "?limit=20", status: 200, samples: n, cpu: true},
		{route: "list-audit-events", label: "target_id", token: admin, query: "?limit=20&target_id=" + b.targetID, status: 200, samples: n},
		windowed(request{route: "list-audit-events", label: "actor_id&action (a combination)", token: admin,
			query: "?limit=20&action=user.updated&actor_id=" + b.adminID, status: 200, samples: n}),
		{route: "export-user", idOf: exported, token: admin, status: 200, samples: n, cpu: true},
		// The first marks the member used; the rest find it so and write
		// nothing.
		{route: "mark-used", token: func(int) string { return usedBy }, status: 204, samples: n, cpu: true,
			before: func() { usedBy = b.freshToken() }},
	}
}
