#!/usr/bin/python
# A module in ansible-core's style, written for hoist's tests: it echoes `text` after
# sleeping `sleep` seconds, so the Ansible-module fallback can be tested in the foreground
# and as an async job.
from __future__ import annotations

import time

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(
        argument_spec=dict(
            text=dict(type='str', required=True),
            sleep=dict(type='int', default=0),
        ),
        supports_check_mode=True,
    )
    time.sleep(module.params['sleep'])
    module.exit_json(changed=True, echoed=module.params['text'])


if __name__ == '__main__':
    main()
