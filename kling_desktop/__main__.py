from kling_desktop.main import main

raise SystemExit(main())
