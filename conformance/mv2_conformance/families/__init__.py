"""The four families of cases, one module each: valid, gold, invalid and crash."""
