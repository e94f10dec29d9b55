"""Donor care: the pathway of each donor's care episode, follow-up schedules, measurements,
alerts and coordinators' caseloads, as pure functions the registry persists."""
