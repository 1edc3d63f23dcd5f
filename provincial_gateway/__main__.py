from provincial_gateway.admin_cli import main

raise SystemExit(main())
