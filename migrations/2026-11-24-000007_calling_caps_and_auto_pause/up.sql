-- The platform-wide limits on calls to one number (one row, set by admins).
CREATE TABLE calling_caps (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    max_per_24h integer NOT NULL DEFAULT 2 CHECK (max_per_24h BETWEEN 1 AND 10),
    min_gap_minutes integer NOT NULL DEFAULT 60 CHECK (min_gap_minutes BETWEEN 0 AND 1440),
    updated_by uuid REFERENCES users (id),
    updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO calling_caps DEFAULT VALUES;

-- A user's own limits; they may only be stricter than the platform's.
CREATE TABLE user_calling_caps (
    user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    max_per_24h integer NOT NULL CHECK (max_per_24h BETWEEN 1 AND 10),
    min_gap_minutes integer NOT NULL CHECK (min_gap_minutes BETWEEN 0 AND 1440),
    updated_at timestamptz NOT NULL DEFAULT now()
);
