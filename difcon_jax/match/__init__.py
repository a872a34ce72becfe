"""Search-match: reference database, retrieval, whole-pattern verification fits (Rietveld-like and Pawley), decision."""
