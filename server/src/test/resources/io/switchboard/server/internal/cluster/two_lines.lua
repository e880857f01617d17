-- a test script
return 'a\tb'
