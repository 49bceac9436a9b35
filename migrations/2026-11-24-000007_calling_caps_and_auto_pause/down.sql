DROP TABLE user_calling_caps;
DROP TABLE calling_caps;
