-- a test script
SELECT $1;
